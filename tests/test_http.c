/* test_http.c - the HTTP client against a one-request-at-a-time HTTP server on 127.0.0.1: each
 * method sends what it should (request line, Authorization, Content-Type, extra headers, body),
 * and the answer's status, Retry-After (on 429 and 5xx only) and X-RateLimit-* headers come
 * back as the platform sent them; header lines that would smuggle another header are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
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
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        req.method = methods[i];
        assert_int_equal(http_call(h, &req, on_done, &got), ERR_INVAL);
    }
    assert_int_equal(http_pending(h), 0);
    assert_int_equal(got.done, 0); /* an error return never runs the callback */
    http_free(h);
    loop_free(loop);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(http_sends_methods_and_headers_and_reads_rate_limits),
        cmocka_unit_test(http_refuses_smuggled_headers_and_bad_methods),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
