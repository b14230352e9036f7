/* demo-worker-rbee: a tiny stand-in for an rbee inference worker.
 *
 *   demo-worker-rbee --version
 *   demo-worker-rbee --port 8080 [--host 127.0.0.1]
 *
 * Serves GET /health -> 200 {"status":"ok",...} over plain POSIX sockets,
 * one connection at a time, until SIGINT/SIGTERM.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef DEMO_VERSION
#define DEMO_VERSION "0.1.0"
#endif

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static int write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static void respond(int fd, const char *status, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, strlen(body));
    if (n > 0 && (size_t)n < sizeof head && write_all(fd, head, (size_t)n) == 0) {
        (void)write_all(fd, body, strlen(body));
    }
}

static void handle(int fd, int port) {
    char req[2048];
    size_t used = 0;
    /* Read until the end of the request head (or the buffer is full). */
    while (used < sizeof req - 1) {
        ssize_t n = read(fd, req + used, sizeof req - 1 - used);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        used += (size_t)n;
        req[used] = '\0';
        if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL) break;
    }
    req[used] = '\0';

    if (strncmp(req, "GET /health ", 12) == 0 || strncmp(req, "HEAD /health ", 13) == 0) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"status\":\"ok\",\"worker\":\"demo-worker-rbee\",\"version\":\"%s\",\"backend\":\"cpu\",\"port\":%d}",
                 DEMO_VERSION, port);
        respond(fd, "200 OK", body);
    } else {
        respond(fd, "404 Not Found", "{\"error\":\"not found\"}");
    }
}

static void usage(FILE *out) {
    fputs("usage: demo-worker-rbee --version\n"
          "       demo-worker-rbee --port N [--host ADDR]\n", out);
}

int main(int argc, char **argv) {
    int port = -1;
    const char *host = "127.0.0.1";

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("demo-worker-rbee %s\n", DEMO_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *end = NULL;
            long p = strtol(argv[++i], &end, 10);
            if (end == NULL || *end != '\0' || p < 0 || p > 65535) {
                fprintf(stderr, "demo-worker-rbee: invalid port '%s'\n", argv[i]);
                return 2;
            }
            port = (int)p;
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (port < 0) {
        usage(stderr);
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int srv = socket(AF_INET, SOCK_STREAM, 0);
    if (srv < 0) {
        perror("demo-worker-rbee: socket");
        return 1;
    }
    int one = 1;
    setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "demo-worker-rbee: invalid IPv4 host '%s'\n", host);
        close(srv);
        return 2;
    }
    if (bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 16) < 0) {
        perror("demo-worker-rbee: bind");
        close(srv);
        return 1;
    }

    socklen_t alen = sizeof addr;
    if (getsockname(srv, (struct sockaddr *)&addr, &alen) == 0) port = ntohs(addr.sin_port);
    fprintf(stderr, "demo-worker-rbee %s listening on http://%s:%d\n", DEMO_VERSION, host, port);

    while (!stop_requested) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR) continue;
            perror("demo-worker-rbee: accept");
            break;
        }
        handle(fd, port);
        close(fd);
    }
    close(srv);
    return 0;
}
