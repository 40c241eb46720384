/* stream.h - byte-stream client connections over TCP, with or without TLS: a transport of the
 * event loop (loop.h), beside ws.h, for protocols of lines such as IRC.
 *
 * A connection (struct stream) hands its owner the bytes as they come, queues what is sent
 * (written in WRITEABLE callbacks, with LWS_PRE headroom) under a cap, and says once when it is
 * gone. TLS certificates are always verified, against the system's authorities or the loop's CA
 * file. What the bytes mean, keepalives and reconnecting are the owner's.
 *
 * Everything here runs on the loop's thread. */
#ifndef PLANBOT_STREAM_H
#define PLANBOT_STREAM_H

#include <stddef.h>

#include "loop.h"

struct stream; /* one client connection */

/* What a connection tells its owner; all on the loop's thread, with the owner's ctx. */
struct stream_handler {
    /* Connected (and the TLS handshake done). */
    void (*on_open)(void *ctx, struct stream *s);
    /* Bytes received, borrowed for the call. */
    void (*on_data)(void *ctx, struct stream *s, const char *data, size_t len);
    /* The connection is gone: it failed to connect, the peer closed it, or stream_close() or
     * stream_abort() finished (why says which). Called once; s is freed right after. */
    void (*on_close)(void *ctx, struct stream *s, const char *why);
};

struct stream_options {
    const char *host;    /* the server's name, for SNI and the certificate check */
    const char *address; /* the numeric address to connect to (NULL: host, which must then be
                            numeric: looking a name up would block the loop) */
    int port;
    int tls;              /* TLS, verified */
    size_t max_queue;     /* bytes queued before stream_send() fails; 0: 1 MiB */
    const char *log_name; /* names the connection in log lines ("irc") */
};

/* Starts connecting. Returns 0 and *out (the handler then gets exactly one on_close), or an
 * error with a message in err (then no handler is ever called). */
int stream_connect(struct loop *l, const struct stream_options *opt, const struct stream_handler *h,
                   void *ctx, struct stream **out, char *err, size_t errlen);

/* Queues bytes. Returns 0, ERR_TOOBIG when the queue is full, ERR_NOMEM, or ERR_IO when the
 * connection is closing or gone. */
int stream_send(struct stream *s, const char *data, size_t len);

/* Bytes queued and not yet written. */
size_t stream_queued(const struct stream *s);

/* Writes what is queued, then closes; on_close follows. */
void stream_close(struct stream *s);

/* Drops the connection at once; on_close follows. */
void stream_abort(struct stream *s);

/* Whether the connection is up (its TLS handshake done) and not closing. */
int stream_is_open(const struct stream *s);

#endif
