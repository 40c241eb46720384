/* test_http.c - the HTTP client against a one-request-at-a-time HTTP server on 127.0.0.1: each
 * method sends what it should (request line, Authorization, Content-Type, extra headers, body),
 * and the answer's status, Retry-After (on 429 and 5xx only) and X-RateLimit-* headers come
 * back as the platform sent them; header lines, tokens or content types that would smuggle another
 * header are refused; a
 * burst of requests at once is answered whole, the second over the connections the first left
 * open, a third each with headers of its own; freeing the client from a callback drops the answers
 * still to come. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "err.h"
#include "http.h"
#include "log.h"
#include "ws.h"

/* The server: answers one request with reply, keeps what it read. */
struct server {
    int fd, port;
    const char *reply;
    char request[8192];
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int c = accept(s->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    long want = -1;
    while (n + 1 < sizeof s->request) {
        ssize_t r = read(c, s->request + n, sizeof s->request - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        s->request[n] = '\0';
        char *end = strstr(s->request, "\r\n\r\n");
        if (!end)
            continue;
        if (want < 0) {
            const char *cl = strstr(s->request, "\r\nContent-Length:");
            want = cl ? strtol(cl + 17, NULL, 10) : 0;
        }
        if ((long)(n - (size_t)(end + 4 - s->request)) >= want)
            break;
    }
    size_t len = strlen(s->reply);
    for (size_t at = 0; at < len;) {
        ssize_t w = write(c, s->reply + at, len - at);
        if (w <= 0)
            break;
        at += (size_t)w;
    }
    close(c);
    return NULL;
}

static void server_start(struct server *s, const char *reply)
{
    memset(s, 0, sizeof *s);
    s->reply = reply;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 4), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
    pthread_join(s->thread, NULL);
    close(s->fd);
}

/* What the callback saw. */
struct seen {
    int done;
    long status;
    int retry_after, err;
    struct http_ratelimit rate;
    char body[256];
};

static void on_done(void *ctx, const struct http_response *r)
{
    struct seen *s = ctx;
    s->done = 1;
    s->status = r->status;
    s->retry_after = r->retry_after;
    s->rate = r->rate;
    s->err = r->err;
    snprintf(s->body, sizeof s->body, "%s", r->body ? r->body : "");
}

static int finished(void *arg)
{
    return ((struct seen *)arg)->done;
}

struct row {
    const char *name;
    const char *method; /* NULL: by the body */
    const char *body;
    const char *headers[3];
    int want_ratelimit;
    const char *reply;
    const char *sent[4]; /* lines the request must hold */
    long status;
    int retry_after;
    long limit, remaining;
    double reset, reset_after;
    const char *bucket;
    int global;
};

static const struct row rows[] = {
    { "a GET with a token and extra headers",
      "GET",
      NULL,
      { "X-Requested-With: XMLHttpRequest", NULL },
      0,
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
      "11\r\n\r\n{\"id\":\"u\"}\n",
      { "GET /api/v4/users/me HTTP/1.1", "Authorization: Bearer tok-1",
        "X-Requested-With: XMLHttpRequest", NULL },
      200,
      -1,
      -1,
      -1,
      -1,
      -1,
      "",
      0 },
    { "a POST by its body, with Mattermost's rate-limit headers",
      NULL,
      "{\"message\":\"hi\"}",
      { NULL },
      1,
      "HTTP/1.1 201 Created\r\nX-Ratelimit-Limit: 10\r\nX-Ratelimit-Remaining: 9\r\n"
      "X-Ratelimit-Reset: 1\r\nContent-Length: 2\r\n\r\n{}",
      { "POST /api/v4/users/me HTTP/1.1", "Content-Type: application/json",
        "\r\n\r\n{\"message\":\"hi\"}", NULL },
      201,
      -1,
      10,
      9,
      1,
      -1,
      "",
      0 },
    { "a 429 with Retry-After and Discord's bucket headers",
      "POST",
      "{}",
      { NULL },
      1,
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nX-RateLimit-Limit: 5\r\n"
      "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1470173023.123\r\n"
      "X-RateLimit-Reset-After: 2.5\r\nX-RateLimit-Bucket: abcd1234\r\n"
      "X-RateLimit-Global: true\r\nContent-Length: 0\r\n\r\n",
      { "POST /api/v4/users/me HTTP/1.1", NULL },
      429,
      3,
      5,
      0,
      1470173023.123,
      2.5,
      "abcd1234",
      1 },
    { "a 503 with Retry-After",
      "GET",
      NULL,
      { NULL },
      0,
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n",
      { "GET /api/v4/users/me HTTP/1.1", NULL },
      503,
      7,
      -1,
      -1,
      -1,
      -1,
      "",
      0 },
    { "Retry-After on a 200 means nothing; rate headers unread when not wanted",
      "GET",
      NULL,
      { NULL },
      0,
      "HTTP/1.1 200 OK\r\nRetry-After: 9\r\nX-RateLimit-Limit: 5\r\nContent-Length: 0\r\n\r\n",
      { "GET /api/v4/users/me HTTP/1.1", NULL },
      200,
      -1,
      -1,
      -1,
      -1,
      -1,
      "",
      0 },
    { "a DELETE",
      "DELETE",
      NULL,
      { NULL },
      0,
      "HTTP/1.1 204 No Content\r\n\r\n",
      { "DELETE /api/v4/users/me HTTP/1.1", NULL },
      204,
      -1,
      -1,
      -1,
      -1,
      -1,
      "",
      0 },
};

static void http_sends_methods_and_headers_and_reads_rate_limits(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct server s;
        server_start(&s, r->reply);
        char err[256], url[128];
        struct loop *loop;
        struct http *h;
        assert_int_equal(loop_new(&loop, NULL, err, sizeof err), 0);
        assert_int_equal(http_new(&h, loop, NULL, err, sizeof err), 0);
        snprintf(url, sizeof url, "http://127.0.0.1:%d/api/v4/users/me", s.port);
        struct http_request req = { .method = r->method,
                                    .url = url,
                                    .bearer = "tok-1",
                                    .content_type = r->body ? "application/json" : NULL,
                                    .body = r->body,
                                    .body_len = r->body ? strlen(r->body) : 0,
                                    .headers = r->headers[0] ? r->headers : NULL,
                                    .timeout_ms = 10000,
                                    .want_ratelimit = r->want_ratelimit };
        struct seen got = { 0 };
        assert_int_equal(http_call(h, &req, on_done, &got), 0);
        loop_run(loop, finished, &got);
        server_stop(&s);
        for (int k = 0; k < 4 && r->sent[k]; k++)
            if (!strstr(s.request, r->sent[k]))
                fail_msg("%s: the request lacks \"%s\":\n%s", r->name, r->sent[k], s.request);
        if (r->method && strcmp(r->method, "GET") == 0 && strstr(s.request, "Content-Length"))
            fail_msg("%s: a GET with a body", r->name);
        if (got.err || got.status != r->status || got.retry_after != r->retry_after)
            fail_msg("%s: err %d, status %ld, Retry-After %d", r->name, got.err, got.status,
                     got.retry_after);
        if (got.rate.limit != r->limit || got.rate.remaining != r->remaining ||
            got.rate.reset != r->reset || got.rate.reset_after != r->reset_after ||
            strcmp(got.rate.bucket, r->bucket) != 0 || got.rate.global != r->global)
            fail_msg("%s: rate %ld %ld %f %f \"%s\" %d", r->name, got.rate.limit,
                     got.rate.remaining, got.rate.reset, got.rate.reset_after, got.rate.bucket,
                     got.rate.global);
        http_free(h);
        loop_free(loop);
    }
}

static void http_refuses_smuggled_headers_and_bad_methods(void **state)
{
    (void)state;
    char err[256];
    struct loop *loop;
    struct http *h;
    assert_int_equal(loop_new(&loop, NULL, err, sizeof err), 0);
    assert_int_equal(http_new(&h, loop, NULL, err, sizeof err), 0);
    static const char *const smuggled[] = { "X-A: 1\r\nX-B: 2", NULL };
    static const char *const no_colon[] = { "not a header", NULL };
    static const char *const methods[] = { "get", "PO ST", "", "AVERYLONGMETHODNAME" };
    struct seen got = { 0 };
    struct http_request req = { .url = "http://127.0.0.1:1/", .headers = smuggled };
    assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    req.headers = no_colon;
    assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    req.headers = NULL;
    req.bearer = "tok\r\nX-Evil: 1";
    assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    req.bearer = NULL;
    req.content_type = "text/plain\nX-Evil: 1";
    assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    req.content_type = NULL;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        req.method = methods[i];
        assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    }
    assert_int_equal(http_pending(h), 0);
    assert_int_equal(got.done, 0); /* an error return never runs the callback */
    http_free(h);
    loop_free(loop);
}

/* ---- many requests at once, on kept-alive connections ---- */

enum { KA_CONNS = 32, BURST = 40 };

/* A keep-alive server: answers every request on every connection with its path, until stop. */
struct ka_server {
    int fd, port, stop[2];
    int accepted, answered; /* written by the server's thread, read by the test's: atomics */
    pthread_t thread;
};

struct ka_conn {
    int fd;
    size_t n;
    char in[4096];
};

/* Answers each whole request in c->in; 0, or -1 when the connection is done for. */
static int ka_answer(struct ka_server *s, struct ka_conn *c)
{
    for (;;) {
        c->in[c->n] = '\0';
        char *end = strstr(c->in, "\r\n\r\n");
        if (!end)
            return 0;
        const char *cl = strstr(c->in, "\r\nContent-Length:");
        size_t body = cl && cl < end ? (size_t)strtol(cl + 17, NULL, 10) : 0;
        size_t whole = (size_t)(end + 4 - c->in) + body;
        if (c->n < whole)
            return 0;
        char path[256] = "", reply[512];
        sscanf(c->in, "%*s %255s", path);
        const char *seq = strstr(c->in, "\r\nX-Seq: "); /* echoed after the path */
        if (seq && seq < end) {
            size_t at = strlen(path);
            snprintf(path + at, sizeof path - at, "|%.*s", (int)strcspn(seq + 9, "\r"), seq + 9);
        }
        int len = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                           strlen(path), path);
        /* counted before the reply leaves, so a client holding every reply reads the whole count */
        __atomic_add_fetch(&s->answered, 1, __ATOMIC_SEQ_CST);
        if (write(c->fd, reply, (size_t)len) != len)
            return -1;
        memmove(c->in, c->in + whole, c->n - whole);
        c->n -= whole;
    }
}

static void *ka_serve(void *arg)
{
    struct ka_server *s = arg;
    struct ka_conn conns[KA_CONNS];
    int nconns = 0;
    for (;;) {
        struct pollfd p[KA_CONNS + 2];
        p[0] = (struct pollfd){ s->fd, POLLIN, 0 };
        p[1] = (struct pollfd){ s->stop[0], POLLIN, 0 };
        for (int i = 0; i < nconns; i++)
            p[i + 2] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
        if (poll(p, (nfds_t)nconns + 2, 5000) <= 0 || p[1].revents)
            break;
        for (int i = 0; i < nconns; i++) { /* the polled ones; a new one comes after */
            if (!(p[i + 2].revents & (POLLIN | POLLHUP)))
                continue;
            struct ka_conn *c = &conns[i];
            ssize_t r = read(c->fd, c->in + c->n, sizeof c->in - 1 - c->n);
            if (r <= 0 || (c->n += (size_t)r, ka_answer(s, c)) < 0) {
                close(c->fd);
                conns[i] = conns[--nconns];
                p[i + 2] = p[nconns + 2];
                i--;
            }
        }
        if ((p[0].revents & POLLIN) && nconns < KA_CONNS) {
            int c = accept(s->fd, NULL, NULL);
            if (c >= 0) {
                conns[nconns++] = (struct ka_conn){ .fd = c };
                __atomic_add_fetch(&s->accepted, 1, __ATOMIC_SEQ_CST);
            }
        }
    }
    for (int i = 0; i < nconns; i++)
        close(conns[i].fd);
    return NULL;
}

static void ka_start(struct ka_server *s)
{
    memset(s, 0, sizeof *s);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->fd, 64), 0);
    socklen_t alen = sizeof a;
    assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, ka_serve, s), 0);
}

static void ka_stop(struct ka_server *s)
{
    assert_int_equal(write(s->stop[1], "x", 1), 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    close(s->stop[0]);
    close(s->stop[1]);
}

struct burst {
    int done, ok, wrong;
    int tagged;      /* each request with an X-Seq header of its own */
    int free_at;     /* free the client from the callback of this answer (-1: never) */
    struct http **h; /* the client, for that */
};

struct burst_call {
    struct burst *b;
    int i;
};

static void on_burst(void *ctx, const struct http_response *r)
{
    struct burst_call *c = ctx;
    char want[64];
    if (c->b->tagged)
        snprintf(want, sizeof want, "/q/%d|%d", c->i, c->i);
    else
        snprintf(want, sizeof want, "/q/%d", c->i);
    c->b->done++;
    if (r->err == 0 && r->status == 200 && strcmp(r->body, want) == 0)
        c->b->ok++;
    else if (c->b->wrong++ == 0)
        print_error("request %d: err %d, status %ld, \"%s\", expected \"%s\"\n", c->i, r->err,
                    r->status, r->body, want);
    if (c->b->done == c->b->free_at) {
        http_free(*c->b->h);
        *c->b->h = NULL;
    }
}

struct burst_wait {
    struct burst *b;
    int want;
    int64_t deadline;
};

static int burst_done(void *arg)
{
    struct burst_wait *w = arg;
    return w->b->done >= w->want || loop_now_ms() >= w->deadline;
}

/* Sends BURST requests at once; returns once all are answered or the deadline passes. */
static void send_burst(struct loop *loop, struct http **h, struct ka_server *s, struct burst *b,
                       struct burst_call *calls, int want)
{
    for (int i = 0; i < BURST; i++) {
        char url[128], body[32], tag[32];
        snprintf(url, sizeof url, "http://127.0.0.1:%d/q/%d", s->port, i);
        snprintf(body, sizeof body, "{\"i\":%d}", i);
        snprintf(tag, sizeof tag, "X-Seq: %d", i);
        const char *const tags[] = { tag, NULL };
        struct http_request req = { .url = url,
                                    .bearer = "tok-1",
                                    .content_type = "application/json",
                                    .body = body,
                                    .body_len = strlen(body),
                                    .headers = b->tagged ? tags : NULL };
        calls[i] = (struct burst_call){ b, i };
        assert_int_equal(http_call(*h, &req, on_burst, &calls[i]), 0);
    }
    assert_int_equal(b->done, 0); /* never called back from within http_call() */
    struct burst_wait w = { b, want, loop_now_ms() + 10000 };
    loop_run(loop, burst_done, &w);
}

/* A keep-alive server, a loop and a client on it. */
struct ka_fx {
    struct ka_server s;
    struct loop *loop;
    struct http *h; /* NULL once freed */
};

static int ka_setup(void **state)
{
    struct ka_fx *f = calloc(1, sizeof *f);
    char err[256];
    if (!f)
        return -1;
    ka_start(&f->s);
    if (loop_new(&f->loop, NULL, err, sizeof err) ||
        http_new(&f->h, f->loop, NULL, err, sizeof err))
        return -1;
    *state = f;
    return 0;
}

static int ka_teardown(void **state)
{
    struct ka_fx *f = *state;
    http_free(f->h);
    loop_free(f->loop);
    ka_stop(&f->s);
    free(f);
    return 0;
}

static void http_answers_a_burst_over_kept_connections(void **state)
{
    struct ka_fx *f = *state;
    struct ka_server *sp = &f->s;
    struct loop *loop = f->loop;
    struct http *h = f->h;
    struct burst_call calls[BURST];
    struct burst b = { .free_at = -1, .h = &h };
    send_burst(loop, &h, sp, &b, calls, BURST);
    assert_int_equal(b.ok, BURST);
    assert_int_equal(http_pending(h), 0);
    int first = __atomic_load_n(&sp->accepted, __ATOMIC_SEQ_CST);
    /* a second burst reuses the connections the first one left open (16 kept) */
    b = (struct burst){ .free_at = -1, .h = &h };
    send_burst(loop, &h, sp, &b, calls, BURST);
    assert_int_equal(b.ok, BURST);
    int opened = __atomic_load_n(&sp->accepted, __ATOMIC_SEQ_CST) - first;
    if (opened > BURST - 16)
        fail_msg("the second burst opened %d connections: the kept ones were not reused", opened);
    /* a third with headers of each request's own: more kinds at once than are kept shared */
    b = (struct burst){ .free_at = -1, .h = &h, .tagged = 1 };
    send_burst(loop, &h, sp, &b, calls, BURST);
    assert_int_equal(b.ok, BURST);
    assert_int_equal(__atomic_load_n(&sp->answered, __ATOMIC_SEQ_CST), 3 * BURST);
}

static void http_free_from_a_callback_drops_the_rest(void **state)
{
    struct ka_fx *f = *state;
    struct burst_call calls[BURST];
    struct burst b = { .free_at = 5, .h = &f->h };
    send_burst(f->loop, &f->h, &f->s, &b, calls, 5);
    int64_t deadline = loop_now_ms() + 200; /* the others never come back */
    struct burst_wait w = { &b, BURST, deadline };
    loop_run(f->loop, burst_done, &w);
    assert_null(f->h); /* freed by the callback: the teardown frees nothing twice */
    assert_int_equal(b.done, 5);
    assert_int_equal(b.wrong, 0);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_sends_methods_and_headers_and_reads_rate_limits),
        cmocka_unit_test(http_refuses_smuggled_headers_and_bad_methods),
        cmocka_unit_test_setup_teardown(http_answers_a_burst_over_kept_connections, ka_setup,
                                        ka_teardown),
        cmocka_unit_test_setup_teardown(http_free_from_a_callback_drops_the_rest, ka_setup,
                                        ka_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
