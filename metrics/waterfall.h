/*
 * /chains as a page for a browser: each of the slowest chains as a
 * waterfall of its hops (time across, one bar per hop, coloured by where
 * the hop came from), then the dangling and the broken (looping, too long)
 * chains as tables.
 *
 * It is made from the JSON of /chains (chains_tables_json), so the page and
 * the JSON can never disagree, and this module needs nothing but that text.
 * One self-contained HTML document: inline CSS, no script, no external
 * asset; every name is HTML-escaped.
 */
#ifndef CHAINDNS_WATERFALL_H
#define CHAINDNS_WATERFALL_H

#include <stdint.h>

/* The page for the /chains JSON `json`, as of now_us (wall clock,
 * microseconds: for "seen 3 min ago"). Returns a malloc'd NUL-terminated
 * string, or NULL when out of memory or when json is not the JSON of
 * /chains. */
char *waterfall_html(const char *json, int64_t now_us);

#endif
