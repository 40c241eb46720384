/* reply.c - answer formatting (see reply.h). */
#include "reply.h"

#include <stdio.h>
#include <string.h>

#include "err.h"

/* How an answer is laid out: several lines, or one per answer. */
enum layout { LAYOUT_TEXT, LAYOUT_LINE };

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The number of n digits at s, or -1 when they are not all digits. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

void reply_date(const char *iso, char *out, size_t len)
{
    static const char *const months[] = { "January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December" };
    /* exactly YYYY-MM-DD (a day of the month from 0 to 99, as it was stored) */
    int y = digits(iso, 4), m = y < 0 || iso[4] != '-' ? -1 : digits(iso + 5, 2),
        d = m < 0 || iso[7] != '-' ? -1 : digits(iso + 8, 2);
    if (d >= 0 && iso[10] == '\0' && m >= 1 && m <= 12)
        snprintf(out, len, "%d %s %d", d, months[m - 1], y);
    else
        snprintf(out, len, "%s", iso);
}

/* Appends the names of a JSON list as "A, B and C". */
static int names(const cJSON *list, struct buf *out)
{
    int n = cJSON_GetArraySize(list), i = 0, rc = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, list)
    {
        if (rc || !cJSON_IsString(a))
            break;
        rc = buf_puts(out, i == 0 ? "" : i == n - 1 ? " and " : ", ");
        if (!rc)
            rc = buf_puts(out, a->valuestring);
        i++;
    }
    return rc;
}

/* Appends the strings up to the first NULL; 0 or the first error. */
static int puts_all(struct buf *out, const char *a, const char *b, const char *c)
{
    int rc = buf_puts(out, a);
    if (!rc && b)
        rc = buf_puts(out, b);
    if (!rc && b && c)
        rc = buf_puts(out, c);
    return rc;
}

/* The citation of a source from its fields; authors a JSON list (NULL: none). */
static int citation(const char *publisher, const char *title, const cJSON *authors,
                    const char *date, const char *url, struct buf *out)
{
    int rc = 0;
    if (*publisher)
        rc = puts_all(out, publisher, ", ", NULL);
    if (!rc)
        rc = puts_all(out, "“", title, "”");
    if (!rc && cJSON_GetArraySize(authors)) {
        rc = buf_puts(out, ", by ");
        if (!rc)
            rc = names(authors, out);
    }
    if (!rc && *date) {
        char day[64];
        reply_date(date, day, sizeof day);
        rc = puts_all(out, ", ", day, NULL);
    }
    if (!rc && *url)
        rc = puts_all(out, ", ", url, NULL);
    return rc;
}

int reply_citation(const cJSON *source, struct buf *out)
{
    return citation(str(source, "publisher"), str(source, "title"),
                    cJSON_GetObjectItemCaseSensitive(source, "authors"), str(source, "date"),
                    str(source, "url"), out);
}

static int card_citation(const struct kb_card *c, struct buf *out)
{
    cJSON *authors = cJSON_Parse(c->authors);
    int rc = citation(c->publisher, c->source_title, authors, c->date, c->url, out);
    cJSON_Delete(authors);
    return rc;
}

static int one_line(struct buf *out, const char *text)
{
    int rc = 0;
    for (const char *p = text; *p && !rc; p++)
        rc = buf_putc(out, *p == '\n' || *p == '\r' || *p == '\t' ? ' ' : *p);
    return rc;
}

/* Appends the start (open 1) or the end of a citation line as the markup writes it (IRC's bold);
 * m NULL: nothing. */
static int cite_mark(const struct markup *m, int open, struct buf *out)
{
    const char *mark = !m ? NULL : open ? m->cite_open : m->cite_close;
    return mark ? buf_puts(out, mark) : 0;
}

static int answer_text(const struct kb_card *c, const struct markup *m, struct buf *out)
{
    int rc = buf_puts(out, "> ");
    for (const char *p = c->text, *nl; *p && !rc; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) {
            rc = buf_puts(out, p);
            break;
        }
        rc = buf_append(out, p, (size_t)(nl - p));
        if (!rc)
            rc = buf_puts(out, "\n> ");
    }
    if (!rc && *c->speaker)
        rc = puts_all(out, "\n— ", c->speaker, *c->role ? ", " : NULL);
    if (!rc && *c->speaker && *c->role)
        rc = buf_puts(out, c->role);
    if (!rc)
        rc = buf_putc(out, '\n');
    if (!rc)
        rc = cite_mark(m, 1, out);
    if (!rc)
        rc = buf_puts(out, "Source: ");
    if (!rc)
        rc = card_citation(c, out);
    if (!rc)
        rc = puts_all(out, " [", c->id, "]");
    if (!rc)
        rc = cite_mark(m, 0, out);
    return rc;
}

static int answer_line(const struct kb_card *c, struct buf *out)
{
    int rc = buf_printf(out, "[%s] ", c->id);
    if (!rc)
        rc = one_line(out, c->text);
    if (!rc && *c->speaker)
        rc = buf_printf(out, " — %s", c->speaker);
    if (!rc)
        rc = buf_printf(out, " (%s%s%s)", c->publisher, *c->publisher && *c->date ? ", " : "",
                        c->date);
    return rc;
}

/* What a source's record says of it, in one line: "By A and B, CNN, 20 November 2025; C and D
 * contributed; updated 21 November 2025." */
static int source_facts(const cJSON *src, struct buf *out)
{
    const cJSON *authors = cJSON_GetObjectItemCaseSensitive(src, "authors"),
                *contributors = cJSON_GetObjectItemCaseSensitive(src, "contributors");
    char day[64];
    size_t start = out->len;
    int rc = buf_puts(out, cJSON_GetArraySize(authors) ? "By " : "");
    if (!rc)
        rc = names(authors, out);
    if (!rc && *str(src, "publisher"))
        rc = buf_printf(out, "%s%s", out->len > start ? ", " : "Published by ",
                        str(src, "publisher"));
    if (!rc && *str(src, "date")) {
        reply_date(str(src, "date"), day, sizeof day);
        rc = buf_printf(out, "%s%s", out->len > start ? ", " : "Published ", day);
    }
    if (!rc && cJSON_GetArraySize(contributors)) {
        rc = buf_puts(out, out->len > start ? "; " : "");
        if (!rc)
            rc = names(contributors, out);
        if (!rc)
            rc = buf_puts(out, " contributed");
    }
    if (!rc && *str(src, "updated")) {
        reply_date(str(src, "updated"), day, sizeof day);
        rc = buf_printf(out, "%s%s", out->len > start ? "; updated " : "Updated ", day);
    }
    if (!rc && out->len == start) /* a source that says nothing of itself */
        rc = buf_puts(out, "The source does not say who wrote or published it");
    return rc ? rc : buf_putc(out, '.');
}

/* The answer that is a source's record: what it says of its authors and publication. */
static int source_answer(const cJSON *src, enum layout layout, const struct markup *m,
                         struct buf *out)
{
    int rc = buf_puts(out, layout == LAYOUT_LINE ? "" : "> ");
    if (!rc && layout == LAYOUT_LINE)
        rc = buf_printf(out, "[%s] ", str(src, "id"));
    if (!rc)
        rc = source_facts(src, out);
    if (!rc && layout != LAYOUT_LINE) {
        rc = buf_putc(out, '\n');
        if (!rc)
            rc = cite_mark(m, 1, out);
        if (!rc)
            rc = buf_puts(out, "Source: ");
        if (!rc)
            rc = reply_citation(src, out);
        if (!rc)
            rc = puts_all(out, " [", str(src, "id"), "]");
        if (!rc)
            rc = cite_mark(m, 0, out);
    }
    return rc;
}

/* What the question asked for that no entry states: "when", "how many", "that about Russia". */
static int asked_for(const struct match_result *res, struct buf *out)
{
    return res->asks == MATCH_ASKS_PARTY
               ? buf_printf(out, "that about %s", res->party)
               : buf_puts(out, res->asks == MATCH_ASKS_WHEN    ? "when"
                               : res->asks == MATCH_ASKS_COUNT ? "how many"
                               : res->asks == MATCH_ASKS_SAID  ? "what that person said"
                               : res->asks == MATCH_ASKS_NOW   ? "how things stand now"
                               : res->asks == MATCH_ASKS_PAST ? "what that person did or was before"
                                                              : "that");
}

/* The answer to res, laid out as layout; m (NULL: none) marks its citation. */
static int answer(struct kb *kb, const struct match_result *res, enum layout layout,
                  const struct markup *m, struct buf *out)
{
    int rc = 0;
    struct kb_card c;
    if (res->n == 0 && res->has_instead && !kb_card(kb, res->instead.id, &c)) {
        /* the topic is known, what was asked of it is not: say so, and what is known */
        if (layout == LAYOUT_LINE) {
            rc = buf_puts(out, "(no answer: nothing says ");
            if (!rc)
                rc = asked_for(res, out);
            if (!rc)
                rc = buf_puts(out, ") instead: ");
            return rc ? rc : answer_line(&c, out);
        }
        rc = buf_puts(out, "The knowledge base does not say ");
        if (!rc)
            rc = asked_for(res, out);
        if (!rc)
            rc = buf_puts(out, ". What it holds on this, which may help:\n");
        return rc ? rc : answer_text(&c, m, out);
    }
    if (res->n == 0) {
        rc = buf_puts(out, layout == LAYOUT_LINE
                               ? "(no answer)"
                               : "I don't know: the knowledge base has nothing that answers that.");
        for (int i = 0; i < res->nsuggest && !rc; i++) {
            if (kb_card(kb, res->suggestions[i].id, &c))
                continue;
            if (layout == LAYOUT_LINE)
                rc = buf_printf(out, "%s %s", i ? "," : " closest topics:", c.id);
            else
                rc = buf_printf(out, "%s%d. %s [%s]", i ? "; " : "\nClosest topics: ", i + 1,
                                c.title, c.id);
        }
        if (!rc && layout == LAYOUT_TEXT)
            rc = buf_puts(out, "\nAsk about the plan's provisions or what people said about it; "
                               "`help` lists the commands.");
        return rc;
    }
    for (int i = 0; i < res->n && !rc; i++) {
        if (res->answers[i].source) {
            cJSON *src = NULL;
            if (kb_get(kb, KB_SOURCE, res->answers[i].id, &src) == 0)
                rc = source_answer(src, layout, m, out);
            cJSON_Delete(src);
            continue;
        }
        if (kb_card(kb, res->answers[i].id, &c))
            continue;
        if (i == 0)
            rc = layout == LAYOUT_LINE ? answer_line(&c, out) : answer_text(&c, m, out);
        else if (layout == LAYOUT_LINE)
            rc = buf_printf(out, "%s%s", i == 1 ? " | related: " : ", ", c.id);
        else
            rc = buf_printf(out, "%s%s [%s]", i == 1 ? "\nRelated: " : "; ", c.title, c.id);
    }
    return rc;
}

int reply_answer(struct kb *kb, const struct match_result *res, const struct markup *m,
                 struct buf *out)
{
    if (!m->with) /* nothing to escape: the citation's marks go as they are */
        return answer(kb, res, LAYOUT_TEXT, m, out);
    /* the text reply, its quote markers kept and everything else written literally */
    struct buf text;
    buf_init(&text, out->max);
    int rc = answer(kb, res, LAYOUT_TEXT, NULL, &text);
    if (!rc)
        rc = markup_escape(m, text.data ? text.data : "", text.len, 1, out);
    buf_free(&text);
    return rc;
}

int reply_answer_line(struct kb *kb, const struct match_result *res, struct buf *out)
{
    return answer(kb, res, LAYOUT_LINE, NULL, out);
}

static cJSON *answer_json(const struct kb_card *c, double score)
{
    cJSON *a = cJSON_CreateObject(), *s = cJSON_CreateObject();
    const char *const entry[][2] = { { "id", c->id },           { "kind", c->kind },
                                     { "title", c->title },     { "text", c->text },
                                     { "speaker", c->speaker }, { "role", c->role } };
    const char *const source[][2] = { { "id", c->source },
                                      { "title", c->source_title },
                                      { "publisher", c->publisher },
                                      { "date", c->date },
                                      { "url", c->url } };
    int ok = a && s;
    for (size_t i = 0; ok && i < sizeof entry / sizeof entry[0]; i++)
        ok = cJSON_AddStringToObject(a, entry[i][0], entry[i][1]) != NULL;
    for (size_t i = 0; ok && i < sizeof source / sizeof source[0]; i++)
        ok = cJSON_AddStringToObject(s, source[i][0], source[i][1]) != NULL;
    cJSON *authors = ok ? cJSON_Parse(c->authors) : NULL;
    if (ok && !cJSON_IsArray(authors)) {
        cJSON_Delete(authors);
        authors = cJSON_CreateArray();
    }
    if (ok)
        ok = authors && cJSON_AddItemToObject(s, "authors", authors);
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

/* A source's record as an answer object: kind "source", its title, what it says of its authors
 * and publication as the text, and itself as the source. NULL when it is gone or out of memory. */
static cJSON *source_json(struct kb *kb, const char *id)
{
    cJSON *src = NULL, *a = NULL;
    struct buf facts;
    buf_init(&facts, 64 * 1024);
    if (kb_get(kb, KB_SOURCE, id, &src) == 0 && !source_facts(src, &facts) &&
        (a = cJSON_CreateObject())) {
        cJSON *s = cJSON_CreateObject();
        static const char *const keep[] = { "id", "title", "publisher", "date", "url", "authors" };
        for (size_t i = 0; s && i < sizeof keep / sizeof *keep; i++)
            cJSON_AddItemToObject(
                s, keep[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(src, keep[i]), 1));
        if (!s || !cJSON_AddStringToObject(a, "id", id) ||
            !cJSON_AddStringToObject(a, "kind", "source") ||
            !cJSON_AddStringToObject(a, "title", str(src, "title")) ||
            !cJSON_AddStringToObject(a, "text", buf_str(&facts)) ||
            !cJSON_AddStringToObject(a, "speaker", "") || !cJSON_AddStringToObject(a, "role", "") ||
            !cJSON_AddItemToObject(a, "source", s) || !cJSON_AddNumberToObject(a, "score", 0)) {
            cJSON_Delete(a);
            a = NULL;
        }
    }
    buf_free(&facts);
    cJSON_Delete(src);
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
    static const char *const asks[] = {
        [MATCH_ASKS_TOPIC] = "topic",
        [MATCH_ASKS_WHEN] = "when",
        [MATCH_ASKS_COUNT] = "how many",
        [MATCH_ASKS_SAID] = "what someone said",
        [MATCH_ASKS_NOW] = "now",
        [MATCH_ASKS_PARTY] = "about a party",
        [MATCH_ASKS_PAST] = "a person's past",
    };
    cJSON_AddStringToObject(o, "asks", asks[res->asks]);
    if (res->asks == MATCH_ASKS_PARTY)
        cJSON_AddStringToObject(o, "party", res->party);
    struct kb_card c;
    if (res->n == 0 && res->has_instead && !kb_card(kb, res->instead.id, &c)) {
        cJSON *a = answer_json(&c, res->instead.score);
        if (!a || !cJSON_AddItemToObject(o, "instead", a)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            return NULL;
        }
    }
    for (int i = 0; i < res->n; i++) {
        cJSON *a;
        if (res->answers[i].source) {
            a = source_json(kb, res->answers[i].id);
        } else if (kb_card(kb, res->answers[i].id, &c)) {
            continue;
        } else {
            a = answer_json(&c, res->answers[i].score);
        }
        if (!a || !cJSON_AddItemToArray(answers, a)) {
            cJSON_Delete(a);
            cJSON_Delete(o);
            return NULL;
        }
    }
    for (int i = 0; i < res->nsuggest; i++) {
        cJSON *s;
        if (kb_card(kb, res->suggestions[i].id, &c) || !(s = cJSON_CreateObject()))
            continue;
        cJSON_AddStringToObject(s, "id", c.id);
        cJSON_AddStringToObject(s, "title", c.title);
        cJSON_AddItemToArray(sugg, s);
    }
    return o;
}
