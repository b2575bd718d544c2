import os
import sys

# the integration tests' harness (Server, Cluster, Client) and receivers
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
