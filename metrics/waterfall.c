/* /chains as an HTML page; see waterfall.h. */
#include "metrics/waterfall.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/jbuf.h"

#define LABEL_PX 330 /* the waterfall's column of names */
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- a small JSON reader: enough for the /chains document ---------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
  enum jtype t;
  double num;   /* J_NUM; J_BOOL: 0 or 1 */
  char *s;      /* J_STR */
  size_t n;     /* J_ARR, J_OBJ: members parsed */
  struct jv *v; /* their values */
  char **k;     /* J_OBJ: their keys */
};

#define JSON_MAX_DEPTH 16 /* /chains nests 5 deep */

static void jv_free(struct jv *v) {
  for (size_t i = 0; i < v->n; i++) {
    jv_free(&v->v[i]);
    if (v->k) free(v->k[i]);
  }
  free(v->v);
  free(v->k);
  free(v->s);
}

static const char *skip_ws(const char *p) { return p + strspn(p, " \t\r\n"); }

static int hex4(const char *p) {
  int u = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    u = u * 16 + d;
  }
  return u;
}

static char *utf8(char *o, unsigned c) {
  if (c < 0x80) {
    *o++ = (char)c;
  } else if (c < 0x800) {
    *o++ = (char)(0xc0 | c >> 6);
    *o++ = (char)(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    *o++ = (char)(0xe0 | c >> 12);
    *o++ = (char)(0x80 | (c >> 6 & 0x3f));
    *o++ = (char)(0x80 | (c & 0x3f));
  } else {
    *o++ = (char)(0xf0 | c >> 18);
    *o++ = (char)(0x80 | (c >> 12 & 0x3f));
    *o++ = (char)(0x80 | (c >> 6 & 0x3f));
    *o++ = (char)(0x80 | (c & 0x3f));
  }
  return o;
}

/* A string literal at *pp (its opening quote), decoded. The text is never
 * longer than the literal, so one allocation of the literal's size does. */
static char *parse_str(const char **pp) {
  const char *s = *pp + 1, *e = s;
  while (*e && *e != '"') e += *e == '\\' && e[1] ? 2 : 1;
  if (*e != '"') return NULL;
  char *out = malloc((size_t)(e - s) + 1), *o = out;
  if (!out) return NULL;
  for (const char *c = s; c < e; c++) {
    if (*c != '\\') {
      *o++ = *c;
      continue;
    }
    switch (*++c) {
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u': {
      int u = e - c > 4 ? hex4(c + 1) : -1;
      if (u < 0) goto bad;
      c += 4;
      unsigned cp = (unsigned)u;
      int lo = cp >= 0xd800 && cp < 0xdc00 && e - c > 6 && c[1] == '\\' && c[2] == 'u'
                   ? hex4(c + 3) : -1;
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
        c += 6;
      } else if (cp >= 0xd800 && cp < 0xe000) {
        cp = 0xfffd; /* a lone surrogate */
      }
      o = utf8(o, cp);
      break;
    }
    default: *o++ = *c; /* \" \\ \/ */
    }
  }
  *o = 0;
  *pp = e + 1;
  return out;
bad:
  free(out);
  return NULL;
}

/* One value at *pp into v (zeroed first). On failure v holds only what is
 * complete, for jv_free. */
static bool parse(const char **pp, struct jv *v, int depth) {
  memset(v, 0, sizeof *v);
  const char *p = skip_ws(*pp);
  if (*p == '"') {
    v->t = J_STR;
    v->s = parse_str(&p);
    *pp = p;
    return v->s != NULL;
  }
  if (*p == '{' || *p == '[') {
    bool obj = *p == '{';
    size_t cap = 0;
    v->t = obj ? J_OBJ : J_ARR;
    if (depth >= JSON_MAX_DEPTH) return false;
    p = skip_ws(p + 1);
    if (*p == (obj ? '}' : ']')) {
      *pp = p + 1;
      return true;
    }
    for (;;) {
      if (v->n == cap) {
        cap = cap ? cap * 2 : 8;
        struct jv *nv = realloc(v->v, cap * sizeof *nv);
        if (!nv) return false;
        v->v = nv;
        if (obj) {
          char **nk = realloc(v->k, cap * sizeof *nk);
          if (!nk) return false;
          v->k = nk;
        }
      }
      char *key = NULL;
      if (obj) {
        p = skip_ws(p);
        if (*p != '"' || !(key = parse_str(&p))) return false;
        p = skip_ws(p);
        if (*p++ != ':') {
          free(key);
          return false;
        }
      }
      if (!parse(&p, &v->v[v->n], depth + 1)) {
        jv_free(&v->v[v->n]);
        free(key);
        return false;
      }
      if (obj) v->k[v->n] = key;
      v->n++;
      p = skip_ws(p);
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p++ != (obj ? '}' : ']')) return false;
      *pp = p;
      return true;
    }
  }
  static const struct { const char *word; enum jtype t; double num; } words[] = {
      {"null", J_NULL, 0}, {"true", J_BOOL, 1}, {"false", J_BOOL, 0}};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (!strncmp(p, words[i].word, strlen(words[i].word))) {
      v->t = words[i].t;
      v->num = words[i].num;
      *pp = p + strlen(words[i].word);
      return true;
    }
  if (*p != '-' && (*p < '0' || *p > '9')) return false; /* not inf, nan, hex */
  char *end;
  v->t = J_NUM;
  v->num = strtod(p, &end);
  *pp = end;
  return end != p && isfinite(v->num);
}

static const struct jv *jget(const struct jv *o, const char *key) {
  if (!o || o->t != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->k[i], key)) return &o->v[i];
  return NULL;
}

static const char *jstr(const struct jv *o, const char *key) {
  const struct jv *v = jget(o, key);
  return v && v->t == J_STR ? v->s : NULL;
}

static double jnum(const struct jv *o, const char *key) {
  const struct jv *v = jget(o, key);
  return v && (v->t == J_NUM || v->t == J_BOOL) ? v->num : 0;
}

static const struct jv *jarr(const struct jv *o, const char *key, size_t *n) {
  const struct jv *v = jget(o, key);
  *n = v && v->t == J_ARR ? v->n : 0;
  return *n ? v->v : NULL;
}

/* ---- HTML ------------------------------------------------------------------ */

/* Text or attribute value, escaped; NULL as `dflt`. */
static void esc(struct jbuf *b, const char *s, const char *dflt) {
  if (!s) s = dflt;
  while (*s) {
    size_t n = strcspn(s, "&<>\"'");
    if (n) jbuf_printf(b, "%.*s", (int)n, s);
    s += n;
    switch (*s) {
    case 0: return;
    case '&': jbuf_puts(b, "&amp;"); break;
    case '<': jbuf_puts(b, "&lt;"); break;
    case '>': jbuf_puts(b, "&gt;"); break;
    case '"': jbuf_puts(b, "&quot;"); break;
    default: jbuf_puts(b, "&#39;"); break;
    }
    s++;
  }
}

static const char *fmt_ms(char *buf, size_t cap, double ms) {
  snprintf(buf, cap, ms < 1 ? "%.3f ms" : ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms" : "%.0f ms",
           ms);
  return buf;
}

/* A source as a CSS class suffix: one of the four, else "other". */
static const char *source_class(const char *src) {
  static const char *known[] = {"memory", "redis", "network", "local"};
  for (size_t i = 0; i < 4; i++)
    if (src && !strcmp(src, known[i])) return known[i];
  return "other";
}

/* "2024-05-01 12:00:01 UTC (3 min ago)" from a record's "time". */
static void seen(struct jbuf *b, const char *iso, int64_t now_us) {
  struct tm tm = {0};
  if (!iso || sscanf(iso, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    jbuf_puts(b, "?");
    return;
  }
  jbuf_puts(b, "<time datetime=\"");
  esc(b, iso, "");
  jbuf_printf(b, "\">%04d-%02d-%02d %02d:%02d:%02d UTC</time>", tm.tm_year, tm.tm_mon,
              tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  long long age = (long long)(now_us / 1000000 - (int64_t)timegm(&tm));
  if (age < 1) jbuf_puts(b, " <small>(just now)</small>");
  else if (age < 120) jbuf_printf(b, " <small>(%lld s ago)</small>", age);
  else if (age < 7200) jbuf_printf(b, " <small>(%lld min ago)</small>", age / 60);
  else jbuf_printf(b, " <small>(%lld h ago)</small>", age / 3600);
}

/* The names a chain went through: a -> b -> c. */
static void path(struct jbuf *b, const struct jv *c) {
  size_t n;
  const struct jv *hops = jarr(c, "hops", &n);
  esc(b, n ? jstr(&hops[0], "name") : jstr(c, "name"), "?");
  for (size_t i = 0; i < n; i++) {
    jbuf_puts(b, " &rarr; ");
    esc(b, jstr(&hops[i], "target"), "?");
  }
}

/* Gridlines across the waterfall at round numbers of ms (1, 2, 5, 10, 20,
 * 50 ... us), at most 5, none at the right edge where its label would not
 * fit. The track starts after the label column (LABEL_PX) and takes the
 * rest. */
static void ticks(struct jbuf *b, double scale) {
  double step = 0.001;
  for (int i = 0; step * 5 < scale; i++) step *= i % 3 == 1 ? 2.5 : 2;
  for (double t = 0; t <= scale * 0.92; t += step) {
    jbuf_printf(b, "<div class=\"tick\" style=\"left:calc(%dpx + (100%% - %dpx) * %.4f)\">"
                   "<span>%.4g ms</span></div>",
                LABEL_PX, LABEL_PX, t / scale, t);
  }
}

/* One bar: a hop (CNAME followed) or the chain's final answer. */
static void bar_row(struct jbuf *b, const struct jv *s, bool answer, double start,
                    double scale) {
  char ms_text[32], start_text[32];
  const char *src = source_class(jstr(s, "source"));
  const char *zone = jstr(s, "zone"), *server = jstr(s, "server");
  double ms = jnum(s, "ms");
  double left = 100 * start / scale, width = 100 * ms / scale, end = left + width;
  fmt_ms(ms_text, sizeof ms_text, ms);
  const char *kind = answer ? "answer" : "hop";
  const char *hop = answer ? NULL : jstr(s, "kind");
  jbuf_printf(b, "<div class=\"row\"><div class=\"label\">%s", answer ? "answer: " : "");
  if (hop && strcmp(hop, "cname")) {
    jbuf_puts(b, "<small>");
    esc(b, hop, "");
    jbuf_puts(b, "</small> "); /* a DNAME or ALIAS hop says so */
  }
  esc(b, jstr(s, "name"), "?");
  jbuf_puts(b, "<br><small>");
  if (zone) {
    esc(b, zone, "");
    jbuf_puts(b, " &middot; ");
    esc(b, server, "");
  } else {
    jbuf_printf(b, "from %s", src);
  }
  jbuf_printf(b, "</small></div><div class=\"track\"><div class=\"bar %s %s-%s\" "
                 "data-source=\"%s\" data-ms=\"%.3f\" data-start-ms=\"%.3f\" data-name=\"",
              kind, kind, src, src, ms, start);
  esc(b, jstr(s, "name"), "");
  jbuf_puts(b, "\" data-zone=\"");
  esc(b, zone, "");
  jbuf_printf(b, "\" style=\"left:%.3f%%;width:%.3f%%\" title=\"", left, width);
  esc(b, jstr(s, "name"), "?");
  if (!answer) {
    jbuf_puts(b, " &rarr; ");
    esc(b, jstr(s, "target"), "?");
  }
  jbuf_printf(b, " (%s, %s from %s)\"></div>", src, ms_text,
              fmt_ms(start_text, sizeof start_text, start));
  /* The duration after the bar; before it if the bar ends near the right
   * edge; inside it if the bar is that wide. */
  if (end <= 78)
    jbuf_printf(b, "<span class=\"ms\" style=\"left:%.3f%%\">", end);
  else if (left >= 22)
    jbuf_printf(b, "<span class=\"ms\" style=\"right:%.3f%%\">", 100 - left);
  else
    jbuf_printf(b, "<span class=\"ms in\" style=\"right:%.3f%%\">", 100 - end);
  jbuf_printf(b, "%s</span></div></div>\n", ms_text);
}

static void waterfall(struct jbuf *b, const struct jv *c, int64_t now_us) {
  char total_text[32];
  size_t nh;
  const struct jv *hops = jarr(c, "hops", &nh), *ans = jget(c, "answer");
  bool has_ans = ans && ans->t == J_OBJ;
  /* Hops carry a duration ("time spent resolving this name") but no start
   * offset. A chain's steps run one after the other, so each starts where
   * the previous ones ended: its offset is the sum of the durations of the
   * hops before it. The scale is the chain's whole duration (or the sum of
   * its steps if that is more, by rounding); the request's own work
   * between the steps is the gap at the right. */
  double total = jnum(c, "ms"), sum = has_ans ? jnum(ans, "ms") : 0;
  for (size_t i = 0; i < nh; i++) sum += jnum(&hops[i], "ms");
  double scale = total > sum ? total : sum;
  if (scale < 0.001) scale = 0.001;

  jbuf_puts(b, "<section class=\"chain\" data-name=\"");
  esc(b, jstr(c, "name"), "");
  jbuf_puts(b, "\"><h3>");
  esc(b, jstr(c, "name"), "?");
  jbuf_puts(b, " ");
  esc(b, jstr(c, "type"), "?");
  jbuf_printf(b, " &mdash; %s, ", fmt_ms(total_text, sizeof total_text, total));
  esc(b, jstr(c, "outcome"), "?");
  jbuf_printf(b, ", %.0f CNAME(s)", jnum(c, "length"));
  if (jnum(c, "count") > 1) jbuf_printf(b, ", seen %.0f times in a row", jnum(c, "count"));
  jbuf_puts(b, "</h3><p class=\"meta\">");
  seen(b, jstr(c, "time"), now_us);
  if (jstr(c, "why")) {
    jbuf_puts(b, " &middot; ");
    esc(b, jstr(c, "why"), "");
  }
  jbuf_puts(b, "</p>\n<div class=\"wf\">");
  ticks(b, scale);
  double start = 0;
  for (size_t i = 0; i < nh; i++) {
    bar_row(b, &hops[i], false, start, scale);
    start += jnum(&hops[i], "ms");
  }
  if (has_ans) bar_row(b, ans, true, start, scale);
  jbuf_puts(b, "</div></section>\n");
}

/* The dangling or the broken chains as a table. */
static void table(struct jbuf *b, const char *id, const struct jv *list, size_t n,
                  int64_t now_us, const char *none) {
  if (!n) {
    jbuf_printf(b, "<p class=\"none\" id=\"%s\">%s</p>\n", id, none);
    return;
  }
  jbuf_printf(b, "<table id=\"%s\"><tr><th>name</th><th>type</th><th>outcome</th>"
                 "<th>chain</th><th>CNAMEs</th><th>ms</th><th>count</th><th>last seen</th>"
                 "<th>why</th></tr>\n", id);
  for (size_t i = 0; i < n; i++) {
    const struct jv *c = &list[i];
    char ms[32];
    jbuf_puts(b, "<tr class=\"entry\" data-name=\"");
    esc(b, jstr(c, "name"), "");
    jbuf_puts(b, "\" data-outcome=\"");
    esc(b, jstr(c, "outcome"), "");
    jbuf_printf(b, "\" data-count=\"%.0f\"><td>", jnum(c, "count"));
    esc(b, jstr(c, "name"), "?");
    jbuf_puts(b, "</td><td>");
    esc(b, jstr(c, "type"), "?");
    jbuf_puts(b, "</td><td>");
    esc(b, jstr(c, "outcome"), "?");
    jbuf_puts(b, "</td><td>");
    path(b, c);
    jbuf_printf(b, "</td><td class=\"n\">%.0f</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%.0f</td><td>",
                jnum(c, "length"), fmt_ms(ms, sizeof ms, jnum(c, "ms")), jnum(c, "count"));
    seen(b, jstr(c, "time"), now_us);
    jbuf_puts(b, "</td><td>");
    esc(b, jstr(c, "why"), "");
    jbuf_puts(b, "</td></tr>\n");
  }
  jbuf_puts(b, "</table>\n");
}

static const char STYLE[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin-top:1.8em;"
    "border-bottom:1px solid #ddd}h3{font-size:1em;margin:1.2em 0 0}"
    "small,.meta,.none{color:#777}.meta{margin:0 0 .3em}"
    ".legend span{margin-right:1.4em;white-space:nowrap}"
    ".sw{display:inline-block;width:1.1em;height:.8em;margin-right:.35em;"
    "vertical-align:baseline;border-radius:2px}"
    ".memory,.hop-memory,.answer-memory{background:#2e9d5b}"
    ".redis,.hop-redis,.answer-redis{background:#d0473a}"
    ".network,.hop-network,.answer-network{background:#3b73c9}"
    ".local,.hop-local,.answer-local{background:#8a5cc2}"
    ".other,.hop-other,.answer-other{background:#999}"
    ".answer,.sw.ans{opacity:.5}"
    ".wf{position:relative;padding-bottom:1.4em;margin-bottom:1em;"
    "border-bottom:1px solid #ccc}"
    ".row{display:flex;align-items:center;height:2.5em;border-top:1px solid #f2f2f2}"
    ".label{width:" STR(LABEL_PX) "px;flex:none;font-size:12px;line-height:1.25;overflow:hidden;"
    "white-space:nowrap;text-overflow:ellipsis;padding-right:.5em;box-sizing:border-box}"
    ".track{position:relative;flex:1;height:1.3em}"
    ".bar{position:absolute;top:0;bottom:0;min-width:2px;border-radius:2px}"
    ".ms{position:absolute;top:0;font-size:11px;line-height:1.3em;padding:0 .4em;"
    "white-space:nowrap}.ms.in{color:#fff}"
    ".tick{position:absolute;top:0;bottom:0;border-left:1px dashed #ddd}"
    ".tick span{position:absolute;bottom:0;left:3px;font-size:10px;color:#888;"
    "white-space:nowrap}"
    "table{border-collapse:collapse;font-size:12px}"
    "th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}"
    "th{background:#f6f6f6}td.n{text-align:right;white-space:nowrap}";

char *waterfall_html(const char *json, int64_t now_us) {
  struct jv root;
  const char *p = json;
  if (!json || !parse(&p, &root, 0) || *skip_ws(p) || root.t != J_OBJ) {
    if (json) jv_free(&root);
    return NULL;
  }
  size_t nrecent, nslow, ndang, nbroken;
  jarr(&root, "recent", &nrecent);
  const struct jv *slow = jarr(&root, "slowest", &nslow);
  const struct jv *dang = jarr(&root, "dangling", &ndang);
  const struct jv *broken = jarr(&root, "broken", &nbroken);

  struct jbuf b = {0};
  jbuf_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                  "<title>chaindns: chains</title><style>%s</style></head><body>\n"
                  "<h1>chaindns: CNAME chains</h1>\n<p class=\"meta\">",
              STYLE);
  char when[40];
  time_t sec = (time_t)(now_us / 1000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
  jbuf_printf(&b, "As of %s: %zu recent, %zu slowest of the last hour, %zu dangling, "
                  "%zu broken. The same data as JSON: <a href=\"?format=json\">"
                  "/chains?format=json</a>.</p>\n",
              when, nrecent, nslow, ndang, nbroken);
  jbuf_puts(&b, "<p class=\"legend\">"
                "<span><i class=\"sw memory\"></i>memory cache</span>"
                "<span><i class=\"sw redis\"></i>shared cache (Redis)</span>"
                "<span><i class=\"sw network\"></i>network (zone &middot; server)</span>"
                "<span><i class=\"sw local\"></i>local data</span>"
                "<span><i class=\"sw network ans\"></i>pale: the answer at the last name"
                "</span></p>\n");

  jbuf_puts(&b, "<h2 id=\"slowest\">Slowest chains of the last hour</h2>\n"
                "<p class=\"meta\">One bar per CNAME followed, from where the previous one "
                "ended, as long as it took; then the answer at the last name.</p>\n");
  for (size_t i = 0; i < nslow; i++) waterfall(&b, &slow[i], now_us);
  if (!nslow) jbuf_puts(&b, "<p class=\"none\">No chain needed the network or the shared "
                            "cache in the last hour.</p>\n");

  jbuf_puts(&b, "<h2>Dangling chains</h2>\n<p class=\"meta\">The last name does not "
                "exist.</p>\n");
  table(&b, "dangling", dang, ndang, now_us, "None seen lately.");
  jbuf_puts(&b, "<h2>Looping and too-long chains</h2>\n");
  table(&b, "broken", broken, nbroken, now_us, "None seen lately.");
  jbuf_puts(&b, "</body></html>\n");
  jv_free(&root);
  return jbuf_take(&b);
}
