/* ws.h - the event loop and the WebSocket plumbing every chat adapter shares.
 *
 * One libwebsockets context, served on the daemon's one thread, drives every WebSocket
 * connection, every timer and every completion handed over from other threads (the HTTP worker).
 * A connection (struct ws) reassembles fragmented messages into a capped buffer, queues what is
 * sent (written in WRITEABLE callbacks, a burst at a time, with LWS_PRE headroom), pings an idle
 * peer and drops a dead one. Reconnecting is the adapter's decision (Slack needs a fresh URL each
 * time); ws_backoff_ms() gives it the delays, with jitter.
 *
 * Everything here runs on the loop's thread, except ws_loop_post(). */
#ifndef PLANBOT_WS_H
#define PLANBOT_WS_H

#include <stddef.h>
#include <stdint.h>

struct ws_loop; /* the event loop */
struct ws;      /* one client connection */
struct ws_timer;

/* Creates the loop. ca_file (NULL: the system's certificates) is a PEM bundle of certificate
 * authorities to trust instead of the system's, for tests against a local TLS server;
 * certificates are always verified. Returns 0 and *out, or an error with a message in err. */
int ws_loop_new(struct ws_loop **out, const char *ca_file, char *err, size_t errlen);

/* Frees the loop, closing connections still open without calling their handlers and dropping
 * posted calls. Free its timers first, and stop every thread that posts to it. Accepts NULL. */
void ws_loop_free(struct ws_loop *l);

/* Serves events until done(arg) returns nonzero; done is checked at least every 100 ms, so a
 * signal handler's flag is seen promptly. */
void ws_loop_run(struct ws_loop *l, int (*done)(void *arg), void *arg);

/* Calls fn(arg) each time the loop has handled what was ready and is about to wait for more,
 * and again at once while fn returns nonzero (it did work that may have queued more), up to a few
 * times. One hook per loop; fn NULL removes it. It is where the daemon writes, in one
 * transaction, what one turn of the loop asked it to write (group commit). */
void ws_loop_before_wait(struct ws_loop *l, int (*fn)(void *arg), void *arg);

/* Thread-safe: calls fn(arg) on the loop's thread soon. Returns 0 or ERR_NOMEM. */
int ws_loop_post(struct ws_loop *l, void (*fn)(void *arg), void *arg);

/* Drops posted calls whose arg is arg (before arg is freed). Thread-safe. */
void ws_loop_unpost(struct ws_loop *l, void *arg);

/* Milliseconds on a monotonic clock. */
int64_t ws_now_ms(void);

/* A timer that calls fn(arg) on the loop's thread. NULL when out of memory. */
struct ws_timer *ws_timer_new(struct ws_loop *l, void (*fn)(void *arg), void *arg);

/* (Re)arms the timer to fire once, ms milliseconds from now. */
void ws_timer_set(struct ws_timer *t, int64_t ms);

/* Disarms the timer. */
void ws_timer_cancel(struct ws_timer *t);

/* Whether the timer is armed. */
int ws_timer_armed(const struct ws_timer *t);

/* Disarms and frees the timer. Accepts NULL. */
void ws_timer_free(struct ws_timer *t);

/* The delay before reconnect attempt n (0, 1, 2...): 0-250 ms for the first, then 1 s, 2 s,
 * 4 s ... capped at cap_ms, each plus up to 30% random jitter so that many bots do not reconnect
 * in step. */
int64_t ws_backoff_ms(unsigned attempt, int64_t cap_ms);

/* What a connection tells its owner; all on the loop's thread, with the owner's ctx. */
struct ws_handler {
    /* The handshake succeeded. */
    void (*on_open)(void *ctx, struct ws *ws);
    /* One whole text message (fragments joined), borrowed for the call. */
    void (*on_text)(void *ctx, struct ws *ws, const char *data, size_t len);
    /* The connection is gone: it failed to connect, the peer closed it (code is the close
     * status, or 0 when there was none), it went dead, or ws_close() finished. Called once;
     * ws is freed right after it returns. */
    void (*on_close)(void *ctx, struct ws *ws, int code, const char *why);
    /* Everything queued has been written to the socket (NULL: not wanted). An adapter that must
     * acknowledge before it works waits for this. */
    void (*on_drained)(void *ctx, struct ws *ws);
};

struct ws_options {
    size_t max_message;   /* larger messages are dropped with a warning; 0: 1 MiB */
    size_t max_queue;     /* bytes queued for sending before ws_send() fails; 0: 4 MiB */
    int ping_secs;        /* ping after this long without traffic; 0: 10 */
    int hangup_secs;      /* drop the connection after this long without traffic; 0: 30 */
    const char *log_name; /* names the connection in log lines, e.g. "slack" */
    const char *address;  /* a numeric address to connect to instead of looking the URL's host
                             up (which would block the loop); the name still goes in the Host
                             header, SNI and the certificate check. NULL: the URL's host */
};

/* The parts of a ws:// or wss:// URL, pointing into a copy the caller owns. */
struct ws_url {
    int tls;         /* wss */
    char host[256];  /* a name, an IPv4 address or an [IPv6] address without brackets */
    int port;        /* given, or 80 / 443 */
    char path[4096]; /* from the first '/', query included; "/" when none */
};

/* Parses url. Returns 0, or ERR_INVAL for another scheme, an empty or over-long host, a bad
 * port, user info, or a path too long. Pure. */
int ws_url_parse(const char *url, struct ws_url *out);

/* Starts connecting to url. Returns 0 and *out (the handler then gets exactly one on_close), or
 * an error with a message in err (then no handler is ever called). */
int ws_connect(struct ws_loop *l, const char *url, const struct ws_options *opt,
               const struct ws_handler *h, void *ctx, struct ws **out, char *err, size_t errlen);

/* Queues a text message. Returns 0, ERR_TOOBIG when the queue is full, ERR_NOMEM, or ERR_IO when
 * the connection is closing or gone. */
int ws_send(struct ws *ws, const char *data, size_t len);

/* Sends what is queued, then closes with status 1000 (normal closure); on_close follows. */
void ws_close(struct ws *ws);

/* Drops the connection at once, without a close handshake; on_close follows. */
void ws_abort(struct ws *ws);

/* Whether the handshake has succeeded and the connection is not closing. */
int ws_is_open(const struct ws *ws);

#endif
