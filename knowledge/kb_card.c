/* kb_card.c - what an answer shows of an entry and its source, read in one statement (see kb.h).
 *
 * Answering a question reads one or three entries; kb_get() would build a JSON record of each
 * and of its source (the source with its whole text) and prepare its SQL from pieces. A card is
 * one join, prepared once per handle, whose strings are copied into one buffer the handle keeps. */
#include "kb_int.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { NCOLS = 12 };

int kb_card(struct kb *kb, const char *id, struct kb_card *out)
{
    memset(out, 0, sizeof *out);
    if (!kb->card) {
        int rc = kb_prepare(kb,
                            "SELECT e.id, e.kind, e.title, e.text, e.speaker, e.role, s.id,"
                            " s.title, s.publisher, s.date, s.url, s.authors"
                            " FROM entries e JOIN sources s ON s.id = e.source WHERE e.id = ?",
                            &kb->card);
        if (rc)
            return rc;
    }
    sqlite3_stmt *st = kb->card;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    int rc = 0;
    if (step == SQLITE_DONE) {
        rc = kb_fail(kb, ERR_NOTFOUND, "no entry \"%s\"", id);
    } else if (step != SQLITE_ROW) {
        rc = kb_dbfail(kb, step, "reading an entry");
    } else {
        const char *v[NCOLS];
        size_t len[NCOLS], need = 0;
        for (int i = 0; i < NCOLS; i++) { /* the text first, then its length (sqlite3.h) */
            v[i] = kb_col(st, i);
            need += (len[i] = (size_t)sqlite3_column_bytes(st, i)) + 1;
        }
        if (need > kb->card_cap) {
            char *grown = realloc(kb->card_strings, need);
            if (!grown) {
                sqlite3_reset(st);
                sqlite3_clear_bindings(st);
                return kb_fail(kb, ERR_NOMEM, "out of memory");
            }
            kb->card_strings = grown;
            kb->card_cap = need;
        }
        const char **field[NCOLS] = { &out->id,        &out->kind, &out->title,  &out->text,
                                      &out->speaker,   &out->role, &out->source, &out->source_title,
                                      &out->publisher, &out->date, &out->url,    &out->authors };
        char *at = kb->card_strings;
        for (int i = 0; i < NCOLS; i++) {
            memcpy(at, v[i], len[i]);
            at[len[i]] = '\0';
            *field[i] = at;
            at += len[i] + 1;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}
