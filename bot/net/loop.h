/* loop.h - the one event loop of the daemon, and what a transport plugs into it.
 *
 * One libwebsockets context, served on the daemon's one thread, drives every connection of
 * every transport (WebSocket clients: net/ws.c; raw TCP or TLS clients: net/stream.c), every
 * timer, every descriptor watched for another library (libcurl's sockets, through an epoll
 * set), and every completion handed over from other threads (the name resolver). The loop
 * owns the single lws protocol callback: it runs posted calls, and hands each connection's
 * events to the transport that made it, through the struct loop_conn at the head of that
 * transport's connection (the wsi's opaque user data).
 *
 * Everything here runs on the loop's thread, except loop_post() and loop_unpost(). */
#ifndef PLANBOT_LOOP_H
#define PLANBOT_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;
struct loop_watch;

/* Creates the loop. ca_file (NULL: the system's certificates) is a PEM bundle of certificate
 * authorities to trust instead of the system's, for tests against a local TLS server;
 * certificates are always verified. Returns 0 and *out, or an error with a message in err. */
int loop_new(struct loop **out, const char *ca_file, char *err, size_t errlen);

/* Frees the loop, closing connections still open without calling their handlers and dropping
 * posted calls. Free its timers first, and stop every thread that posts to it. Accepts NULL. */
void loop_free(struct loop *l);

/* Serves events until done(arg) returns nonzero; done is checked at least every 100 ms, so a
 * signal handler's flag is seen promptly. */
void loop_run(struct loop *l, int (*done)(void *arg), void *arg);

/* Calls fn(arg) each time the loop has handled what was ready and is about to wait for more,
 * and again at once while fn returns nonzero (it did work that may have queued more), up to a few
 * times. One hook per loop; fn NULL removes it. It is where the daemon writes, in one
 * transaction, what one turn of the loop asked it to write (group commit). */
void loop_before_wait(struct loop *l, int (*fn)(void *arg), void *arg);

/* Under load, waits us microseconds (at most 100,000; 0: never, the default) before serving the
 * next turn, when the last two turns' first input was already waiting as each began: the loop is
 * behind, and what arrives during the wait is served with what waited, in one turn. A loop that
 * keeps up (its input arrives while it waits in poll()) never lingers, so answering one question
 * at a time costs no latency. */
void loop_set_linger(struct loop *l, int us);

/* Thread-safe: calls fn(arg) on the loop's thread soon. Returns 0 or ERR_NOMEM. */
int loop_post(struct loop *l, void (*fn)(void *arg), void *arg);

/* Drops posted calls whose arg is arg (before arg is freed). Thread-safe. */
void loop_unpost(struct loop *l, void *arg);

/* How many times the loop has served (waited, then handled what was ready) so far: for tests. */
uint64_t loop_turns(const struct loop *l);

/* Milliseconds on a monotonic clock. */
int64_t loop_now_ms(void);

/* A timer that calls fn(arg) on the loop's thread. NULL when out of memory. */
struct loop_timer *loop_timer_new(struct loop *l, void (*fn)(void *arg), void *arg);

/* (Re)arms the timer to fire once, ms milliseconds from now. */
void loop_timer_set(struct loop_timer *t, int64_t ms);

/* Disarms the timer. */
void loop_timer_cancel(struct loop_timer *t);

/* Whether the timer is armed. */
int loop_timer_armed(const struct loop_timer *t);

/* Disarms and frees the timer. Accepts NULL. */
void loop_timer_free(struct loop_timer *t);

/* A descriptor the loop watches for reading: fn(arg) runs on the loop's thread whenever fd is
 * readable, again at every turn for as long as it stays so (level-triggered). For a descriptor
 * that stands for others, such as an epoll set (net/http.c). The loop owns fd from this call on,
 * and closes it after loop_watch_free() or loop_free(). Returns the watch, or NULL (fd closed)
 * when lws cannot take it. */
struct loop_watch *loop_watch_new(struct loop *l, int fd, void (*fn)(void *arg), void *arg);

/* Stops watching, at once: fn is never called again. Accepts NULL. loop_free() frees the watches
 * still there: never free one after it. */
void loop_watch_free(struct loop_watch *w);

/* ---- for transports ---- */

struct lws;
struct lws_context;
struct lws_retry_bo;

/* The head of a transport's connection: set conn->ops, pass conn as the wsi's opaque user data
 * (lws_client_connect_info.opaque_user_data) with loop_protocol() as its local protocol name,
 * and loop_attach() it. */
struct loop_conn {
    const struct loop_conn_ops *ops;
    struct loop *loop;
    struct loop_conn *prev, *next; /* the loop's connections, for loop_free() */
};

struct loop_conn_ops {
    /* One lws callback for the connection's wsi (reason is an enum lws_callback_reasons); its
     * return value is lws's. */
    int (*event)(struct loop_conn *c, struct lws *wsi, int reason, void *in, size_t len);
    /* loop_free(): drop the connection at once and free it, calling no handler. */
    void (*destroy)(struct loop_conn *c);
};

/* The lws context, for lws calls that need one (connecting, scheduling). */
struct lws_context *loop_lws(struct loop *l);

/* The lws protocol name of the loop's callback. */
const char *loop_protocol(void);

/* Adds c to the loop's connections (c->ops set); loop_detach() takes it out again. */
void loop_attach(struct loop *l, struct loop_conn *c);
void loop_detach(struct loop_conn *c);

/* A keepalive policy (ping after ping_secs quiet, hang up after hangup_secs) that lws may read
 * for as long as a connection lives: the loop owns it. */
const struct lws_retry_bo *loop_keepalive(struct loop *l, int ping_secs, int hangup_secs);

/* The CA bundle given to loop_new() (NULL: the system's), for a transport that does its own TLS. */
const char *loop_ca_file(const struct loop *l);

/* Points an OpenSSL client context (an SSL_CTX *) at the system's certificate authorities, as
 * OpenSSL's default paths would but for reading the default bundle whole: the hashed directory
 * ($SSL_CERT_DIR, or OpenSSL's default, /etc/ssl/certs on Debian), from which OpenSSL reads an
 * authority only when a chain needs it, and a bundle $SSL_CERT_FILE names; the default bundle
 * (/usr/lib/ssl/cert.pem) only where there is no hashed directory. 0, or ERR_IO. */
int loop_trust_system_cas(void *ssl_ctx);

/* Whether loop_free() is running (a transport then calls no handler). */
int loop_destroying(const struct loop *l);

/* Takes the reason of the last TLS failure lws logged ("SSL error: ..."), for a message that
 * says why a certificate was refused: copied into out ("" when none), then forgotten. */
void loop_take_tls_reason(char *out, size_t len);

#endif
