-- 0016: read your writes with a read replica (SPEC section 12, roadmap step 10).
--
-- With CONFER_REPLICA_URL set, a GET may be answered from a streaming replica, which
-- can be a moment behind. A session that wrote recently reads from the primary instead:
-- the session lookup of every write request (POST, PUT, PATCH, DELETE) stamps wrote_at
-- in the same transaction, before the write itself runs, and the lookup of a read says
-- whether wrote_at is within CONFER_REPLICA_WINDOW. The stamp lives in the database, so
-- it holds whichever instance behind the load balancer the next request reaches.
-- A new session starts stamped: its member may have just registered or been invited.
ALTER TABLE sessions ADD COLUMN wrote_at timestamptz NOT NULL DEFAULT now();
