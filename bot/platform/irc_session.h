/* irc_session.h - one IRC client session as a state machine, with no I/O.
 *
 * The adapter hands it each parsed line the server sent (irc_codec.h) and writes to the server
 * whatever lines it appends to out; it says what happened as one event per line. It registers
 * (CAP LS 302 and REQ of what planbot uses where offered, PASS, NICK, USER, SASL PLAIN when an
 * account is set), takes another nick when its own is in use and asks for it back later, answers
 * PING, joins the configured channels and knows which it is in (after a KICK or a PART forced on
 * it, irc_session_rejoin() joins again), and turns a PRIVMSG addressed to planbot into a question
 * with its asker's services account: from the account-tag when the server offers it, else from
 * what account-notify, extended-join and WHOX told it, else none. Who is a moderator is decided by
 * that account, never by a nick. */
#ifndef PLANBOT_IRC_SESSION_H
#define PLANBOT_IRC_SESSION_H

#include <stddef.h>

#include "buf.h"
#include "irc_codec.h"

struct irc_session;

struct irc_session_config {
    const char *nick;          /* the nick planbot wants */
    const char *user;          /* USER's user name; NULL: the nick */
    const char *realname;      /* USER's real name; NULL: "planbot" */
    const char *password;      /* the server password (PASS); NULL: none */
    const char *sasl_account;  /* services account to log in to with SASL PLAIN; NULL: none */
    const char *sasl_password; /* its password */
    const char *channels;      /* channels to join, comma-separated; NULL: none */
    const char *prefix;        /* a channel message starting with it is a question ("!ask") */
};

enum irc_event_kind {
    IRC_EV_NONE,
    IRC_EV_WELCOME,     /* registered: planbot is nick on the server */
    IRC_EV_JOINED,      /* planbot joined channel */
    IRC_EV_LEFT,        /* planbot was kicked from or made to leave channel (why: by whom) */
    IRC_EV_JOIN_FAILED, /* the server refused to let planbot join channel (why) */
    IRC_EV_QUESTION,    /* someone asked planbot something */
    IRC_EV_CLOSING,     /* the server is closing the connection (ERROR; why) */
    IRC_EV_FATAL        /* connecting again cannot help: a password or account refused (why) */
};

struct irc_event {
    enum irc_event_kind kind;
    const char *channel; /* JOINED, LEFT, JOIN_FAILED */
    /* QUESTION: */
    const char *nick;     /* who asked */
    const char *account;  /* their services account ("": none known) */
    const char *reply_to; /* where the answer goes: the channel, or the asker's nick */
    int direct;           /* a private message */
    const char *text;     /* the question: formatting stripped, "planbot:" or the prefix cut */
    size_t len;
    char why[256]; /* LEFT, JOIN_FAILED, CLOSING, FATAL */
};

/* A new session; the strings are copied. NULL when out of memory or a string is too long.
 * Caller frees with irc_session_free(). */
struct irc_session *irc_session_new(const struct irc_session_config *c);
void irc_session_free(struct irc_session *s);

/* A new connection: forgets the last one's state and appends the registration lines. Returns
 * 0, or ERR_TOOBIG / ERR_NOMEM. */
int irc_session_begin(struct irc_session *s, struct buf *out);

/* Takes one line from the server: appends what must be sent back to out and fills *ev (kind
 * IRC_EV_NONE when nothing happened that the adapter must act on). The event's strings point
 * into m or into the session, valid until the next call. Returns 0, or ERR_TOOBIG / ERR_NOMEM
 * when a reply line does not fit out. */
int irc_session_take(struct irc_session *s, struct irc_msg *m, struct buf *out,
                     struct irc_event *ev);

/* Without account-tag, planbot learns who is logged in from a WHOX of each channel it joins.
 * A question from a nick whose account is not known while such a WHOX is under way is held
 * (up to 32; then, or when out of memory, it is asked at once as from no account) until the
 * server has answered them all, so that a moderator who speaks right after planbot joins is
 * not refused. After each irc_session_take, call this until it returns 0: each 1 fills *ev with
 * a held question now asked, with the account the WHOX said (strings valid until the next
 * call). now: release them even though a WHOX is still unanswered (the adapter's deadline). */
int irc_session_held(struct irc_session *s, int now, struct irc_event *ev);

/* How many questions are held. */
size_t irc_session_holding(const struct irc_session *s);

/* Appends a JOIN of each configured channel planbot is not in, and a NICK back to the wanted
 * nick when it has another. For after a kick, and every now and then. */
int irc_session_rejoin(struct irc_session *s, struct buf *out);

/* Whether registration is complete. */
int irc_session_registered(const struct irc_session *s);

/* The nick planbot has now. */
const char *irc_session_nick(const struct irc_session *s);

/* The length of planbot's user@host as the server shows it to others, or 0 while unknown. */
size_t irc_session_user_host_len(const struct irc_session *s);

/* Whether the server told planbot who is logged in to which account (account-tag, or
 * account-notify with extended-join): without it, nobody is a moderator. */
int irc_session_knows_accounts(const struct irc_session *s);

#endif
