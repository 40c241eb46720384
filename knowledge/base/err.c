/* err.c - names of the error codes of err.h. */
#include "err.h"

const char *err_str(int err)
{
    switch (err) {
    case ERR_OK: return "success";
    case ERR_NOMEM: return "out of memory";
    case ERR_INVAL: return "invalid input";
    case ERR_NOTFOUND: return "not found";
    case ERR_EXISTS: return "already exists";
    case ERR_TOOBIG: return "too large";
    case ERR_DB: return "database error";
    case ERR_BUSY: return "database is locked";
    case ERR_READONLY: return "read-only";
    case ERR_IO: return "input/output error";
    case ERR_CONFLICT: return "conflicting change";
    case ERR_SCHEMA: return "unsupported database";
    case ERR_PERM: return "not allowed";
    case ERR_USAGE: return "usage error";
    case ERR_FULL: return "disk full";
    case ERR_REFERENCED: return "still referenced";
    case ERR_RATELIMIT: return "rate limited";
    case ERR_AUTH: return "credentials refused";
    case ERR_PROTO: return "protocol error";
    }
    return "unknown error";
}

int err_exit_status(int err)
{
    if (err == ERR_OK)
        return 0;
    return err == ERR_USAGE ? 2 : 1;
}
