/* sqlfail.h - what a failed SQLite call means to the person who has to act on it: one of the
 * program's error codes, and a message that names the operation and the file ("the database
 * F is locked by another process; try again"). Shared by every file planbot keeps in SQLite (the
 * knowledge base, the inbox). */
#ifndef PLANBOT_SQLFAIL_H
#define PLANBOT_SQLFAIL_H

#include <stddef.h>

#include <sqlite3.h>

/* The enum err for a SQLite result code (extended codes too): 0 for SQLITE_OK. */
int sqlfail_code(int rc);

/* Writes into msg (len bytes) what failed: what (the operation) and why, naming the file path;
 * db (may be NULL) gives SQLite's own detail for the failures that have no plain words. Returns
 * sqlfail_code(rc). */
int sqlfail_msg(char *msg, size_t len, int rc, sqlite3 *db, const char *path, const char *what);

#endif
