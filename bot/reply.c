/* reply.c - answer formatting (see reply.h). */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

void reply_date(const char *iso, char *out, size_t len)
{
    static const char *const months[] = { "January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December" };
    int y, m, d;
    char tail;
    if (sscanf(iso, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && m >= 1 && m <= 12)
        snprintf(out, len, "%d %s %d", d, months[m - 1], y);
    else
        snprintf(out, len, "%s", iso);
}

int reply_citation(const cJSON *source, struct buf *out)
{
    int rc = 0;
    const char *publisher = str(source, "publisher");
    if (*publisher)
        rc = buf_printf(out, "%s, ", publisher);
    if (!rc)
        rc = buf_printf(out, "“%s”", str(source, "title"));
    const cJSON *authors = cJSON_GetObjectItemCaseSensitive(source, "authors");
    int n = cJSON_GetArraySize(authors), i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, authors)
    {
        if (rc || !cJSON_IsString(a))
            break;
        rc = buf_printf(out, "%s%s",
                        i == 0       ? ", by "
                        : i == n - 1 ? " and "
                                     : ", ",
                        a->valuestring);
        i++;
    }
    if (!rc && *str(source, "date")) {
        char date[64];
        reply_date(str(source, "date"), date, sizeof date);
        rc = buf_printf(out, ", %s", date);
    }
    if (!rc && *str(source, "url"))
        rc = buf_printf(out, ", %s", str(source, "url"));
    return rc;
}

/* Reads an entry and its source; 0 or an error. Caller frees both. */
static int load(struct kb *kb, const char *id, cJSON **entry, cJSON **source)
{
    *source = NULL;
    int rc = kb_get(kb, KB_ENTRY, id, entry);
    if (rc)
        return rc;
    rc = kb_get(kb, KB_SOURCE, str(*entry, "source"), source);
    if (rc) {
        cJSON_Delete(*entry);
        *entry = NULL;
    }
    return rc;
}

static int one_line(struct buf *out, const char *text)
{
    int rc = 0;
    for (const char *p = text; *p && !rc; p++)
        rc = buf_putc(out, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    return rc;
}

static int answer_text(const cJSON *e, const cJSON *src, struct buf *out)
{
    int rc = buf_puts(out, "> ");
    for (const char *p = str(e, "text"); *p && !rc; p++)
        rc = *p == '\n' ? buf_puts(out, "\n> ") : buf_putc(out, *p);
    if (!rc && *str(e, "speaker"))
        rc = buf_printf(out, "\n— %s%s%s", str(e, "speaker"), *str(e, "role") ? ", " : "",
                        str(e, "role"));
    if (!rc)
        rc = buf_puts(out, "\nSource: ");
    if (!rc)
        rc = reply_citation(src, out);
    if (!rc)
        rc = buf_printf(out, " [%s]", str(e, "id"));
    return rc;
}

static int answer_line(const cJSON *e, const cJSON *src, struct buf *out)
{
    int rc = buf_printf(out, "[%s] ", str(e, "id"));
    if (!rc)
        rc = one_line(out, str(e, "text"));
    if (!rc && *str(e, "speaker"))
        rc = buf_printf(out, " — %s", str(e, "speaker"));
    if (!rc)
        rc = buf_printf(out, " (%s%s%s)", str(src, "publisher"),
                        *str(src, "publisher") && *str(src, "date") ? ", " : "", str(src, "date"));
    return rc;
}

static int answer(struct kb *kb, const struct match_result *res, enum reply_style style,
                  struct buf *out)
{
    int rc = 0;
    if (res->n == 0) {
        rc = buf_puts(out, style == REPLY_LINE
                               ? "(no answer)"
                               : "I don't know: the knowledge base has nothing that answers that.");
        for (int i = 0; i < res->nsuggest && !rc; i++) {
            cJSON *e;
            if (kb_get(kb, KB_ENTRY, res->suggestions[i].id, &e))
                continue;
            if (style == REPLY_LINE)
                rc = buf_printf(out, "%s %s", i ? "," : " closest topics:", str(e, "id"));
            else
                rc = buf_printf(out, "%s%s [%s]", i ? "; " : "\nClosest topics: ", str(e, "title"),
                                str(e, "id"));
            cJSON_Delete(e);
        }
        if (!rc && style == REPLY_TEXT)
            rc = buf_puts(out, "\nAsk about the plan's provisions or what people said about it; "
                               "`help` lists the commands.");
        return rc;
    }
    for (int i = 0; i < res->n && !rc; i++) {
        cJSON *e, *src;
        if (load(kb, res->answers[i].id, &e, &src))
            continue;
        if (i == 0)
            rc = style == REPLY_LINE ? answer_line(e, src, out) : answer_text(e, src, out);
        else if (style == REPLY_LINE)
            rc = buf_printf(out, "%s%s", i == 1 ? " | related: " : ", ", str(e, "id"));
        else
            rc = buf_printf(out, "%s%s [%s]", i == 1 ? "\nRelated: " : "; ", str(e, "title"),
                            str(e, "id"));
        cJSON_Delete(e);
        cJSON_Delete(src);
    }
    return rc;
}

/* Slack's escaping of & < >, but keeping the "> " that starts a quoted line. */
static int escape(const char *text, size_t len, int keep_quotes, struct buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        if (keep_quotes && text[i] == '>' && (i == 0 || text[i - 1] == '\n') && i + 1 < len &&
            text[i + 1] == ' ')
            rc = buf_putc(out, '>');
        else if (text[i] == '&')
            rc = buf_puts(out, "&amp;");
        else if (text[i] == '<')
            rc = buf_puts(out, "&lt;");
        else if (text[i] == '>')
            rc = buf_puts(out, "&gt;");
        else
            rc = buf_putc(out, text[i]);
    }
    return rc;
}

int reply_escape(enum reply_style style, const char *text, size_t len, struct buf *out)
{
    return style == REPLY_MRKDWN ? escape(text, len, 0, out) : buf_append(out, text, len);
}

int reply_answer(struct kb *kb, const struct match_result *res, enum reply_style style,
                 struct buf *out)
{
    if (style != REPLY_MRKDWN)
        return answer(kb, res, style, out);
    /* the text reply, its quote markers kept and everything else escaped */
    struct buf text;
    buf_init(&text, out->max);
    int rc = answer(kb, res, REPLY_TEXT, &text);
    if (!rc)
        rc = escape(text.data ? text.data : "", text.len, 1, out);
    buf_free(&text);
    return rc;
}

static cJSON *answer_json(const cJSON *e, const cJSON *src, double score)
{
    cJSON *a = cJSON_CreateObject(), *s = cJSON_CreateObject();
    static const char *const entry_keys[] = { "id", "kind", "title", "text", "speaker", "role" };
    static const char *const source_keys[] = { "id", "title", "publisher", "date", "url" };
    int ok = a && s;
    for (size_t i = 0; ok && i < sizeof entry_keys / sizeof entry_keys[0]; i++)
        ok = cJSON_AddStringToObject(a, entry_keys[i], str(e, entry_keys[i])) != NULL;
    for (size_t i = 0; ok && i < sizeof source_keys / sizeof source_keys[0]; i++)
        ok = cJSON_AddStringToObject(s, source_keys[i], str(src, source_keys[i])) != NULL;
    cJSON *authors =
        ok ? cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(src, "authors"), 1) : NULL;
    if (ok && authors)
        ok = cJSON_AddItemToObject(s, "authors", authors);
    if (ok && (ok = cJSON_AddItemToObject(a, "source", s)))
        s = NULL;
    if (ok)
        ok = cJSON_AddNumberToObject(a, "score", (double)(long long)(score * 1000 + 0.5) / 1000) !=
             NULL;
    cJSON_Delete(s);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

cJSON *reply_answer_json(struct kb *kb, const char *question, const struct match_result *res)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *answers = cJSON_CreateArray(), *sugg = cJSON_CreateArray();
    if (!o || !answers || !sugg || !cJSON_AddStringToObject(o, "question", question)) {
        cJSON_Delete(o);
        cJSON_Delete(answers);
        cJSON_Delete(sugg);
        return NULL;
    }
    cJSON_AddItemToObject(o, "answers", answers);
    cJSON_AddItemToObject(o, "suggestions", sugg);
    for (int i = 0; i < res->n; i++) {
        cJSON *e, *src;
        if (load(kb, res->answers[i].id, &e, &src))
            continue;
        cJSON *a = answer_json(e, src, res->answers[i].score);
        cJSON_Delete(e);
        cJSON_Delete(src);
        if (!a || !cJSON_AddItemToArray(answers, a)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            return NULL;
        }
    }
    for (int i = 0; i < res->nsuggest; i++) {
        cJSON *e, *s = cJSON_CreateObject();
        if (!s || kb_get(kb, KB_ENTRY, res->suggestions[i].id, &e)) {
            cJSON_Delete(s);
            continue;
        }
        cJSON_AddStringToObject(s, "id", str(e, "id"));
        cJSON_AddStringToObject(s, "title", str(e, "title"));
        cJSON_AddItemToArray(sugg, s);
        cJSON_Delete(e);
    }
    return o;
}
