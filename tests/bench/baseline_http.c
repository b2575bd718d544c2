/*
 * bench-baseline-http: the smallest evhttp server that answers like /healthz,
 * with the same shape as confer (one event loop and SO_REUSEPORT listener per
 * thread). It is the same-run yardstick of tests/bench/run: confer's
 * /healthz is measured as a share of this program's requests per second.
 *
 * usage: bench-baseline-http PORT THREADS
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static void on_request(struct evhttp_request *req, void *arg)
{
    static const char body[] = "{\"status\":\"ok\"}";
    struct evbuffer *buf = evbuffer_new();
    (void)arg;
    evbuffer_add(buf, body, sizeof(body) - 1);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", buf);
    evbuffer_free(buf);
}

static void *run(void *arg)
{
    int port = *(int *)arg;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short)port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 1024) != 0) {
        perror("bench-baseline-http: listen");
        exit(1);
    }
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_accept_socket_with_handle(http, fd);
    event_base_dispatch(base);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-baseline-http PORT THREADS\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    pthread_t threads[64];
    for (int i = 0; i < n && i < 64; i++)
        pthread_create(&threads[i], NULL, run, &port);
    for (int i = 0; i < n && i < 64; i++)
        pthread_join(threads[i], NULL);
    return 0;
}
