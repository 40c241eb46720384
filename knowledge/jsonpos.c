/* jsonpos.c - a tolerant JSON scanner that locates values by path. */
#include "jsonpos.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* Skips a string starting at its opening quote; returns the index after the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

/* Skips one value of any kind; returns the index after it. */
static size_t skip_value(const char *s, size_t n, size_t i)
{
    i = skip_ws(s, n, i);
    if (i >= n)
        return n;
    if (s[i] == '"')
        return skip_string(s, n, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; i < n; i++) {
            if (s[i] == '"') {
                i = skip_string(s, n, i) - 1;
            } else if (s[i] == '{' || s[i] == '[') {
                depth++;
            } else if (s[i] == '}' || s[i] == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i;
}

/* Finds the value of key in the object at i; returns its index or n. */
static size_t find_key(const char *s, size_t n, size_t i, const char *key)
{
    size_t klen = strlen(key);
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '{')
        return n;
    i++;
    for (;;) {
        i = skip_ws(s, n, i);
        if (i >= n || s[i] != '"')
            return n;
        size_t kstart = i + 1, kend = skip_string(s, n, i);
        int match = kend - 1 - kstart == klen && memcmp(s + kstart, key, klen) == 0;
        i = skip_ws(s, n, kend);
        if (i >= n || s[i] != ':')
            return n;
        i = skip_ws(s, n, i + 1);
        if (match)
            return i;
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i >= n || s[i] != ',')
            return n;
        i++;
    }
}

/* Finds element index of the array at i; returns its index or n. */
static size_t find_index(const char *s, size_t n, size_t i, int index)
{
    i = skip_ws(s, n, i);
    if (i >= n || s[i] != '[')
        return n;
    i = skip_ws(s, n, i + 1);
    for (int k = 0; i < n && s[i] != ']'; k++) {
        if (k == index)
            return i;
        i = skip_ws(s, n, skip_value(s, n, i));
        if (i >= n || s[i] != ',')
            return n;
        i = skip_ws(s, n, i + 1);
    }
    return n;
}

size_t jsonpos_offset(const char *text, size_t len, const struct jsonpos_step *path, size_t depth)
{
    size_t at = skip_ws(text, len, 0);
    if (at >= len)
        return 0;
    for (size_t d = 0; d < depth; d++) {
        size_t next = path[d].key ? find_key(text, len, at, path[d].key)
                                  : find_index(text, len, at, path[d].index);
        if (next >= len)
            break;
        at = next;
    }
    return at;
}

void jsonpos_line_col(const char *text, size_t len, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}
