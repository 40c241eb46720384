/* ws.h - WebSocket client connections, a transport of the event loop (loop.h).
 *
 * A connection (struct ws) reassembles fragmented messages into a capped buffer, queues what is
 * sent (written in WRITEABLE callbacks, a burst at a time, with LWS_PRE headroom), pings an idle
 * peer and drops a dead one. Reconnecting is the adapter's decision (Slack needs a fresh URL each
 * time); bot/reconnect.h gives it the delays.
 *
 * Everything here runs on the loop's thread. */
#ifndef PLANBOT_WS_H
#define PLANBOT_WS_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct ws; /* one client connection */

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
    size_t max_message;    /* larger messages are dropped with a warning; 0: 1 MiB */
    size_t max_queue;      /* bytes queued for sending before ws_send() fails; 0: 4 MiB */
    int ping_secs;         /* ping after this long without traffic; 0: 10 */
    int hangup_secs;       /* drop the connection after this long without traffic; 0: 30 */
    const char *log_name;  /* names the connection in log lines, e.g. "slack" */
    const char *address;   /* a numeric address to connect to instead of looking the URL's host
                              up (which would block the loop); the name still goes in the Host
                              header, SNI and the certificate check. NULL: the URL's host */
    const char *protocols; /* the subprotocols offered, comma-separated, most wanted first
                              (Sec-WebSocket-Protocol); NULL: none */
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
int ws_connect(struct loop *l, const char *url, const struct ws_options *opt,
               const struct ws_handler *h, void *ctx, struct ws **out, char *err, size_t errlen);

/* Queues a text message. Returns 0, ERR_TOOBIG when the queue is full, ERR_NOMEM, or ERR_IO when
 * the connection is closing or gone. */
int ws_send(struct ws *ws, const char *data, size_t len);

/* Sends what is queued, then closes with status 1000 (normal closure); on_close follows. */
void ws_close(struct ws *ws);

/* The same with another status (one a peer may be sent: 1000-1003, 1007-1014, 3000-4999;
 * any other is sent as 1000): Discord ends a session closed with 1000 or 1001, so an adapter
 * that means to resume closes with 4000. */
void ws_close_code(struct ws *ws, int code);

/* Drops the connection at once, without a close handshake; on_close follows. */
void ws_abort(struct ws *ws);

/* Whether the handshake has succeeded and the connection is not closing. */
int ws_is_open(const struct ws *ws);

#endif
