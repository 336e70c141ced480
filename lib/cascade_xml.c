/* cascade_xml.c - a bounds-checked tokenizer for the XML that OpenCV's
 * FileStorage writes. Every read is guarded by the end of the buffer;
 * errors carry the line number. See cascade_xml.h for what is accepted. */
#include "cascade_xml.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

struct parser {
    struct fer_xml *x;
    const char *p, *end;
    int stack[FER_XML_MAX_DEPTH];
    int last_child[FER_XML_MAX_DEPTH];
    int depth;
    int roots;
};

int fer_xml_line(const struct fer_xml *x, const char *at)
{
    int line = 1;
    if (at > x->buf + x->size)
        at = x->buf + x->size;
    for (const char *q = x->buf; q < at; q++)
        line += *q == '\n';
    return line;
}

static int fail_at(struct parser *ps, const char *at, const char *what)
{
    return fer_fail("line %d: %s", fer_xml_line(ps->x, at), what);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int starts(const struct parser *ps, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, s, n) == 0;
}

/* Skip past the terminator `t` (e.g. "-->"); error if it never comes. */
static int skip_past(struct parser *ps, const char *t, const char *what)
{
    const char *start = ps->p;
    size_t n = strlen(t);
    for (const char *q = ps->p; (size_t)(ps->end - q) >= n; q++) {
        if (memcmp(q, t, n) == 0) {
            ps->p = q + n;
            return 0;
        }
    }
    return fail_at(ps, start, what);
}

static void skip_space(struct parser *ps)
{
    while (ps->p < ps->end && is_space(*ps->p))
        ps->p++;
}

static int read_name(struct parser *ps, const char **name, size_t *len)
{
    if (ps->p >= ps->end || !is_name_start(*ps->p))
        return fail_at(ps, ps->p, "expected a tag or attribute name");
    const char *s = ps->p;
    while (ps->p < ps->end && is_name_char(*ps->p))
        ps->p++;
    *name = s;
    *len = (size_t)(ps->p - s);
    return 0;
}

static int new_node(struct parser *ps, const char *name, size_t len)
{
    struct fer_xml *x = ps->x;
    if (x->count >= FER_XML_MAX_NODES)
        return fail_at(ps, name, "too many elements");
    if (x->count == x->cap) {
        int cap = x->cap ? x->cap * 2 : 256;
        struct fer_xml_node *n = realloc(x->nodes, (size_t)cap * sizeof *n);
        if (n == NULL)
            return fer_fail("out of memory");
        x->nodes = n;
        x->cap = cap;
    }
    int id = x->count++;
    struct fer_xml_node *n = &x->nodes[id];
    memset(n, 0, sizeof *n);
    n->name = name;
    n->name_len = len;
    n->first_child = n->next_sibling = -1;
    if (ps->depth == 0) {
        if (ps->roots++ > 0)
            return fail_at(ps, name, "more than one root element");
    } else {
        int parent = ps->stack[ps->depth - 1];
        int prev = ps->last_child[ps->depth - 1];
        if (prev < 0)
            x->nodes[parent].first_child = id;
        else
            x->nodes[prev].next_sibling = id;
        ps->last_child[ps->depth - 1] = id;
    }
    return id;
}

static int open_tag(struct parser *ps)
{
    const char *name;
    size_t len;
    ps->p++; /* '<' */
    if (read_name(ps, &name, &len) < 0)
        return -1;
    int id = new_node(ps, name, len);
    if (id < 0)
        return -1;
    for (;;) {
        skip_space(ps);
        if (ps->p >= ps->end)
            return fail_at(ps, name, "unterminated tag");
        if (*ps->p == '>') {
            ps->p++;
            break;
        }
        if (starts(ps, "/>")) {
            ps->p += 2;
            return 0; /* empty element: nothing to push */
        }
        const char *attr;
        size_t alen;
        if (read_name(ps, &attr, &alen) < 0)
            return -1;
        skip_space(ps);
        if (ps->p >= ps->end || *ps->p != '=')
            return fail_at(ps, ps->p, "expected '=' after attribute name");
        ps->p++;
        skip_space(ps);
        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\''))
            return fail_at(ps, ps->p, "expected a quoted attribute value");
        char quote = *ps->p++;
        const char *val = ps->p;
        while (ps->p < ps->end && *ps->p != quote) {
            if (*ps->p == '<' || *ps->p == '&')
                return fail_at(ps, ps->p, "'<' or '&' in an attribute value");
            ps->p++;
        }
        if (ps->p >= ps->end)
            return fail_at(ps, val, "unterminated attribute value");
        if (alen == 7 && memcmp(attr, "type_id", 7) == 0) {
            ps->x->nodes[id].type_id = val;
            ps->x->nodes[id].type_id_len = (size_t)(ps->p - val);
        }
        ps->p++;
    }
    if (ps->depth >= FER_XML_MAX_DEPTH)
        return fail_at(ps, name, "elements nested too deeply");
    ps->stack[ps->depth] = id;
    ps->last_child[ps->depth] = -1;
    ps->depth++;
    return 0;
}

static int close_tag(struct parser *ps)
{
    const char *at = ps->p, *name;
    size_t len;
    ps->p += 2; /* "</" */
    if (read_name(ps, &name, &len) < 0)
        return -1;
    skip_space(ps);
    if (ps->p >= ps->end || *ps->p != '>')
        return fail_at(ps, at, "unterminated closing tag");
    ps->p++;
    if (ps->depth == 0)
        return fail_at(ps, at, "closing tag without an opening tag");
    const struct fer_xml_node *open = &ps->x->nodes[ps->stack[ps->depth - 1]];
    if (open->name_len != len || memcmp(open->name, name, len) != 0)
        return fail_at(ps, at, "closing tag does not match the open element");
    ps->depth--;
    return 0;
}

static int text(struct parser *ps)
{
    const char *s = ps->p;
    while (ps->p < ps->end && *ps->p != '<')
        ps->p++;
    const char *e = ps->p;
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    if (s == e)
        return 0;
    if (memchr(s, '&', (size_t)(e - s)) != NULL)
        return fail_at(ps, s, "entity references (&...;) are not supported");
    if (ps->depth == 0)
        return fail_at(ps, s, "text outside the root element");
    struct fer_xml_node *n = &ps->x->nodes[ps->stack[ps->depth - 1]];
    if (n->text != NULL)
        return fail_at(ps, s, "element text split by a tag or comment");
    n->text = s;
    n->text_len = (size_t)(e - s);
    return 0;
}

int fer_xml_parse(struct fer_xml *x, const char *buf, size_t size)
{
    memset(x, 0, sizeof *x);
    x->buf = buf;
    x->size = size;
    struct parser ps = {.x = x, .p = buf, .end = buf + size};
    if (memchr(buf, '\0', size) != NULL)
        return fail_at(&ps, (const char *)memchr(buf, '\0', size), "NUL byte in the file");
    while (ps.p < ps.end) {
        int rc;
        if (*ps.p != '<')
            rc = text(&ps);
        else if (starts(&ps, "<?"))
            rc = skip_past(&ps, "?>", "unterminated <?...?>");
        else if (starts(&ps, "<!--"))
            rc = skip_past(&ps, "-->", "unterminated comment");
        else if (starts(&ps, "<!"))
            rc = fail_at(&ps, ps.p, "DOCTYPE and CDATA are not supported");
        else if (starts(&ps, "</"))
            rc = close_tag(&ps);
        else
            rc = open_tag(&ps);
        if (rc < 0)
            return -1;
    }
    if (ps.depth > 0)
        return fail_at(&ps, ps.end, "unexpected end of file: element not closed");
    if (x->count == 0)
        return fail_at(&ps, ps.end, "no XML element in the file");
    return 0;
}

void fer_xml_free(struct fer_xml *x)
{
    free(x->nodes);
    x->nodes = NULL;
    x->count = x->cap = 0;
}

int fer_xml_child(const struct fer_xml *x, int parent, const char *name)
{
    size_t len = strlen(name);
    for (int c = x->nodes[parent].first_child; c >= 0; c = x->nodes[c].next_sibling)
        if (x->nodes[c].name_len == len && memcmp(x->nodes[c].name, name, len) == 0)
            return c;
    return -1;
}

int fer_xml_count(const struct fer_xml *x, int parent)
{
    int n = 0;
    for (int c = x->nodes[parent].first_child; c >= 0; c = x->nodes[c].next_sibling)
        n++;
    return n;
}
