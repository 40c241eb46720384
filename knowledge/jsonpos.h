/* jsonpos.h - where a value sits in JSON text, for error messages that name a line.
 *
 * cJSON does not keep positions; when a record in an import file is invalid, planbot walks the
 * text once more with this scanner to find the line of entries[3].kind. It never allocates and
 * accepts any text, valid JSON or not. */
#ifndef PLANBOT_JSONPOS_H
#define PLANBOT_JSONPOS_H

#include <stddef.h>

/* One step of a path: an object key, or (key == NULL) an array index. */
struct jsonpos_step {
    const char *key;
    int index;
};

/* The byte offset of the value at path in text, or of the deepest part of the path that exists
 * (the whole text: 0) when the rest is missing. */
size_t jsonpos_offset(const char *text, size_t len, const struct jsonpos_step *path, size_t depth);

/* The 1-based line and column of a byte offset. */
void jsonpos_line_col(const char *text, size_t len, size_t offset, int *line, int *col);

#endif
