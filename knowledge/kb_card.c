/* kb_card.c - what an answer shows of an entry and its source, read in one statement (see kb.h).
 *
 * Answering a question reads one or three entries; kb_get() would build a JSON record of each
 * and of its source (the source with its whole text) and prepare its SQL from pieces. A card is
 * one join, prepared once per handle, whose strings are copied into a slot of a small cache the
 * handle keeps: the same entries answer question after question, and a slot is good for as long
 * as kb_stamp() says nothing changed (another process's change included). Inside a write
 * transaction the cache is neither read nor filled: what is read there may yet be rolled back. */
#include "kb_int.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { NCOLS = 12 };

struct kb_card_slot {
    int used;
    uint64_t stamp; /* kb_stamp() when it was read */
    char *strings;  /* owned: the card's strings, one after another, id first */
    size_t cap;
    size_t at[NCOLS]; /* where each string starts in strings */
};

void kb_card_cache_free(struct kb *kb)
{
    for (int i = 0; kb->cards && i < KB_CARD_SLOTS; i++)
        free(kb->cards[i].strings);
    free(kb->cards);
    kb->cards = NULL;
}

static void fill(const struct kb_card_slot *s, struct kb_card *out)
{
    const char **field[NCOLS] = { &out->id,        &out->kind, &out->title,  &out->text,
                                  &out->speaker,   &out->role, &out->source, &out->source_title,
                                  &out->publisher, &out->date, &out->url,    &out->authors };
    for (int i = 0; i < NCOLS; i++)
        *field[i] = s->strings + s->at[i];
}

/* The slot id belongs in (FNV-1a). */
static struct kb_card_slot *slot_of(struct kb *kb, const char *id)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 16777619u;
    return &kb->cards[h % KB_CARD_SLOTS];
}

/* Reads the card of id into slot s. */
static int read_card(struct kb *kb, const char *id, struct kb_card_slot *s)
{
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
    s->used = 0;
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
        if (need > s->cap) {
            char *grown = realloc(s->strings, need);
            if (!grown)
                rc = kb_fail(kb, ERR_NOMEM, "out of memory");
            else {
                s->strings = grown;
                s->cap = need;
            }
        }
        for (size_t i = 0, at = 0; !rc && i < NCOLS; i++) {
            memcpy(s->strings + at, v[i], len[i]);
            s->strings[at + len[i]] = '\0';
            s->at[i] = at;
            at += len[i] + 1;
        }
        s->used = !rc;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

int kb_card(struct kb *kb, const char *id, struct kb_card *out)
{
    memset(out, 0, sizeof *out);
    if (!kb->cards && !(kb->cards = calloc(KB_CARD_SLOTS, sizeof *kb->cards)))
        return kb_fail(kb, ERR_NOMEM, "out of memory");
    int writing = sqlite3_txn_state(kb->db, NULL) == SQLITE_TXN_WRITE;
    uint64_t stamp = writing ? 0 : kb_stamp(kb);
    struct kb_card_slot *s = slot_of(kb, id);
    if (!writing && s->used && s->stamp == stamp && strcmp(s->strings, id) == 0) {
        fill(s, out);
        return 0;
    }
    int rc = read_card(kb, id, s);
    if (rc)
        return rc;
    s->stamp = stamp;
    s->used = !writing; /* what a write transaction read is not kept */
    fill(s, out);
    return 0;
}
