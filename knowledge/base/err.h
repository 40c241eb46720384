/* err.h - the one error convention of planbot.
 *
 * Every fallible function returns 0 on success or a negative enum err value; err_str() names it.
 * Long-lived handles (struct kb, struct match) keep a message with the detail for the caller. */
#ifndef PLANBOT_ERR_H
#define PLANBOT_ERR_H

enum err {
    ERR_OK = 0,
    ERR_NOMEM = -1,       /* out of memory */
    ERR_INVAL = -2,       /* invalid input: a field, a file, a question */
    ERR_NOTFOUND = -3,    /* no such entry, source, synonym or change */
    ERR_EXISTS = -4,      /* already exists */
    ERR_TOOBIG = -5,      /* input over its size cap */
    ERR_DB = -6,          /* SQLite failed */
    ERR_BUSY = -7,        /* the database is locked by another process */
    ERR_READONLY = -8,    /* the database or a file cannot be written */
    ERR_IO = -9,          /* reading or writing a file failed */
    ERR_CONFLICT = -10,   /* the data changed since: the operation would lose a later change */
    ERR_SCHEMA = -11,     /* not a planbot database, or one from a newer planbot */
    ERR_PERM = -12,       /* the user may not run this command */
    ERR_USAGE = -13,      /* a command used the wrong way */
    ERR_FULL = -14,       /* the disk is full */
    ERR_REFERENCED = -15, /* still referenced: a source that entries cite */
    ERR_RATELIMIT = -16,  /* a chat platform asked planbot to slow down (HTTP 429) */
    ERR_AUTH = -17,       /* a chat platform refused planbot's credentials */
    ERR_PROTO = -18       /* a chat platform sent something its protocol does not allow */
};

/* The name of an error code, for messages: never NULL. */
const char *err_str(int err);

/* The process exit status for an error code: 0 for ERR_OK, 2 for a usage error, 1 otherwise. */
int err_exit_status(int err);

#endif
