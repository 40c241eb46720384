/* oldschema.h - turning a database of this planbot into the layout an older one left, for the
 * tests of migrations. Header-only: each test is its own program. */
#ifndef PLANBOT_OLDSCHEMA_H
#define PLANBOT_OLDSCHEMA_H

#include <sqlite3.h>

/* Version 5's layout: no parties, and none in the audit log. SQL, run on a database of the
 * current version; user_version is left for the caller to set. */
#define OLDSCHEMA_5 "DELETE FROM changes WHERE type = 'party'; DROP TABLE parties;"

static const char oldschema_5[] = OLDSCHEMA_5;

/* Version 4's layout of the entries' indexes and of the columns version 5 added; the rows kept.
 * SQL, run on a database of the current version; user_version is left for the caller to set. */
static const char oldschema_4[] = OLDSCHEMA_5
    "DROP TRIGGER entries_ai; DROP TRIGGER entries_ad; DROP TRIGGER entries_au;"
    "DROP TABLE entries_fts_terms; DROP TABLE entries_words_terms;"
    "DROP TABLE entries_fts; DROP TABLE entries_words;"
    "ALTER TABLE entries DROP COLUMN examples;"
    "ALTER TABLE sources DROP COLUMN contributors;"
    "ALTER TABLE sources DROP COLUMN updated;"
    "DROP TABLE speakers;"
    "CREATE VIRTUAL TABLE entries_fts USING fts5(title, text, speaker, role, keywords,"
    "  content='entries', content_rowid='n', tokenize='porter unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE entries_words USING fts5(title, text, speaker, role, keywords,"
    "  content='entries', content_rowid='n', detail=none, columnsize=0,"
    "  tokenize='unicode61 remove_diacritics 2');"
    "CREATE VIRTUAL TABLE entries_fts_terms USING fts5vocab(entries_fts, row);"
    "CREATE VIRTUAL TABLE entries_words_terms USING fts5vocab(entries_words, row);"
    "CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN"
    "  INSERT INTO entries_fts(rowid, title, text, speaker, role, keywords)"
    "    VALUES (new.n, new.title, new.text, new.speaker, new.role, new.keywords);"
    "  INSERT INTO entries_words(rowid, title, text, speaker, role, keywords)"
    "    VALUES (new.n, new.title, new.text, new.speaker, new.role, new.keywords);"
    "END;"
    "CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN"
    "  INSERT INTO entries_fts(entries_fts, rowid, title, text, speaker, role, keywords)"
    "    VALUES ('delete', old.n, old.title, old.text, old.speaker, old.role, old.keywords);"
    "  INSERT INTO entries_words(entries_words, rowid, title, text, speaker, role, keywords)"
    "    VALUES ('delete', old.n, old.title, old.text, old.speaker, old.role, old.keywords);"
    "END;"
    "CREATE TRIGGER entries_au AFTER UPDATE ON entries BEGIN"
    "  INSERT INTO entries_fts(entries_fts, rowid, title, text, speaker, role, keywords)"
    "    VALUES ('delete', old.n, old.title, old.text, old.speaker, old.role, old.keywords);"
    "  INSERT INTO entries_words(entries_words, rowid, title, text, speaker, role, keywords)"
    "    VALUES ('delete', old.n, old.title, old.text, old.speaker, old.role, old.keywords);"
    "  INSERT INTO entries_fts(rowid, title, text, speaker, role, keywords)"
    "    VALUES (new.n, new.title, new.text, new.speaker, new.role, new.keywords);"
    "  INSERT INTO entries_words(rowid, title, text, speaker, role, keywords)"
    "    VALUES (new.n, new.title, new.text, new.speaker, new.role, new.keywords);"
    "END;"
    "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');"
    "INSERT INTO entries_words(entries_words) VALUES ('rebuild');";

#endif
