/* cascade_xml.h - the small XML subset that OpenCV's FileStorage writes,
 * parsed into a tree of elements. Private to libfer (used by cascade.c).
 *
 * Accepted: an optional <?xml ...?> prolog, comments, elements with quoted
 * attributes, self-closing elements, and character data. Refused with
 * "line N: cause": DOCTYPE, CDATA, entity references (&...;), mismatched or
 * unclosed tags, text outside the root, more than one root, nesting deeper
 * than FER_XML_MAX_DEPTH, and an element holding text in two runs.
 * Nodes point into the caller's buffer, which must stay alive and end with
 * a NUL byte (at buf[size]).
 */
#ifndef FER_CASCADE_XML_H
#define FER_CASCADE_XML_H

#include <stddef.h>

enum { FER_XML_MAX_DEPTH = 64, FER_XML_MAX_NODES = 8 << 20 };

struct fer_xml_node {
    const char *name;
    size_t name_len;
    const char *text;    /* the element's own character data, trimmed; NULL if none */
    size_t text_len;
    const char *type_id; /* value of a type_id attribute, NULL if absent */
    size_t type_id_len;
    int first_child, next_sibling; /* node indices, -1 for none */
};

struct fer_xml {
    const char *buf;
    size_t size;
    struct fer_xml_node *nodes; /* nodes[0] is the root element */
    int count, cap;
};

/* Parse buf[0..size) (buf[size] must be 0). Returns 0, or -1 with
 * fer_error() "line N: cause". Free with fer_xml_free either way. */
int fer_xml_parse(struct fer_xml *x, const char *buf, size_t size);
void fer_xml_free(struct fer_xml *x);

/* The 1-based line of a position inside the buffer, for messages. */
int fer_xml_line(const struct fer_xml *x, const char *at);

/* The first child element of node `parent` called `name`, or -1. */
int fer_xml_child(const struct fer_xml *x, int parent, const char *name);

/* Number of child elements of `parent`. */
int fer_xml_count(const struct fer_xml *x, int parent);

#endif
