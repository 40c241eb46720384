/* fuzz_kb_import.c - libFuzzer target for `kb import` (kb_import in kb.h): each input is a
 * knowledge base file. It is imported as a dry run, as `kb import --dry-run` does, into an empty
 * knowledge base and, with and without --replace, into one holding the bundled data; both are
 * in-memory SQLite databases opened once. A file that imports cleanly is then imported for real
 * into a fresh empty database, imported there a second time, and exported and imported again.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a promise breaks: an import
 * fails only as invalid (with a message) or too big, never with a database error; a dry run
 * changes nothing; what it imports passes kb_check; importing the same file twice changes nothing
 * the second time; what kb_export writes, kb_import reads. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "kb.h"
#include "fuzz.h"

static const struct kb_actor fuzzer = { "fuzzer", "cli" };

/* The two knowledge bases the dry runs use (libFuzzer runs inputs one at a time). */
static struct kb *empty, *bundled;

static struct kb *open_memory(unsigned flags)
{
    struct kb *kb;
    char err[512];
    if (kb_open(&kb, ":memory:", flags, err, sizeof err)) {
        fprintf(stderr, "fuzz_kb_import: kb_open: %s\n", err);
        abort();
    }
    return kb;
}

static void close_all(void)
{
    kb_close(empty);
    kb_close(bundled);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    empty = open_memory(KB_OPEN_EMPTY);
    bundled = open_memory(0);
    atexit(close_all); /* so that LeakSanitizer sees only real leaks at exit */
    return 0;
}

/* Imports text into kb; checks the failure is one an import may have. */
static int import(struct kb *kb, const char *text, size_t len, int replace, int dry_run,
                  struct kb_import_report *rep)
{
    struct kb_import_opts opts = { replace, dry_run };
    uint64_t before = kb_stamp(kb);
    int rc = kb_import(kb, text, len, &opts, &fuzzer, rep);
    if (rc && rc != ERR_INVAL && rc != ERR_TOOBIG) {
        fprintf(stderr, "fuzz_kb_import: kb_import failed with %s: %s\n", err_str(rc),
                kb_errmsg(kb));
        abort();
    }
    CHECK(!rc || kb_errmsg(kb)[0] != '\0');
    if (dry_run || rc)
        CHECK(kb_stamp(kb) == before);
    return rc;
}

/* A file that a dry run accepts, imported for real into a fresh database. */
static void import_for_real(const char *text, size_t len)
{
    struct kb_import_report rep;
    struct kb *kb = open_memory(KB_OPEN_EMPTY);
    CHECK(import(kb, text, len, 0, 0, &rep) == 0);
    fuzz_consistent(kb, "the import"); /* what an import wrote passes kb check */
    /* the same file again: every record is already there as it says */
    CHECK(import(kb, text, len, 0, 0, &rep) == 0);
    CHECK(rep.added == 0 && rep.updated == 0 && rep.removed == 0);

    /* what export writes, import reads */
    cJSON *doc;
    CHECK(kb_export(kb, &doc) == 0);
    char *out = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    CHECK(out != NULL);
    struct kb *copy = open_memory(KB_OPEN_EMPTY);
    if (import(copy, out, strlen(out), 0, 0, &rep)) {
        fprintf(stderr, "fuzz_kb_import: the export does not import: %s\n", kb_errmsg(copy));
        abort();
    }
    free(out);
    kb_close(copy);
    kb_close(kb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* `kb import` reads the file into a buf: NUL-terminated */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct kb_import_report rep;
    int rc = import(empty, text, size, 0, 1, &rep);
    (void)import(bundled, text, size, 0, 1, &rep);
    (void)import(bundled, text, size, 1, 1, &rep);
    if (rc == 0)
        import_for_real(text, size);
    free(text);
    return 0;
}
