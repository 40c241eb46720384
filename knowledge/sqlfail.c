/* sqlfail.c - SQLite's result codes in the program's words (see sqlfail.h). */
#include "sqlfail.h"

#include <stdio.h>

#include "err.h"

int sqlfail_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK: return 0;
    case SQLITE_NOMEM: return ERR_NOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ERR_BUSY;
    case SQLITE_READONLY:
    case SQLITE_PERM: return ERR_READONLY;
    case SQLITE_FULL: return ERR_FULL;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN: return ERR_IO;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return ERR_SCHEMA;
    case SQLITE_CONSTRAINT: return ERR_INVAL;
    case SQLITE_TOOBIG: return ERR_TOOBIG;
    }
    return ERR_DB;
}

int sqlfail_msg(char *msg, size_t len, int rc, sqlite3 *db, const char *path, const char *what)
{
    int err = sqlfail_code(rc);
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (err) {
    case ERR_BUSY:
        snprintf(msg, len, "%s: the database %s is locked by another process; try again", what,
                 path);
        break;
    case ERR_READONLY: snprintf(msg, len, "%s: the database %s is read-only", what, path); break;
    case ERR_FULL:
        snprintf(msg, len, "%s: the disk holding %s is full; nothing was changed", what, path);
        break;
    case ERR_SCHEMA:
        snprintf(msg, len, "%s: %s is not a usable database (%s)", what, path, detail);
        break;
    default: snprintf(msg, len, "%s: %s", what, detail);
    }
    return err;
}
