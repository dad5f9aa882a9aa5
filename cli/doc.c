/*
 * doc.c: one printable document in three formats.
 *
 * The forms (report, register, digest) are written once, as a sequence
 * of headings, labelled fields, tables and sign-off boxes; doc.c turns
 * that into plain text for a terminal, Markdown, or HTML made to be
 * printed on A4 (print CSS: page size, margins, rows that do not break
 * across pages, a footer with the form number).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "doc.h"
#include "text.h"
#include "util.h"

static const char doc_css[] =
	"@page { size: A4; margin: 14mm 12mm 16mm 12mm;"
	" @bottom-right { content: counter(page) \" / \" counter(pages); } }\n"
	"body { font-family: \"Noto Sans CJK TC\", \"Noto Sans TC\","
	" \"Noto Sans CJK JP\", \"Microsoft JhengHei\", sans-serif;"
	" font-size: 10pt; line-height: 1.35; margin: 0; color: #000; }\n"
	"h1 { font-size: 16pt; text-align: center; margin: 0 0 2pt 0; }\n"
	"h2 { font-size: 11.5pt; margin: 10pt 0 3pt 0;"
	" border-bottom: 1.5px solid #000; page-break-after: avoid; }\n"
	".formno { display: flex; justify-content: space-between;"
	" font-size: 9pt; margin-bottom: 6pt; }\n"
	"table { border-collapse: collapse; width: 100%;"
	" margin: 2pt 0 4pt 0; }\n"
	"th, td { border: 1px solid #000; padding: 2pt 4pt; text-align: left;"
	" vertical-align: top; white-space: pre-wrap;"
	" overflow-wrap: break-word; }\n"
	"thead { display: table-header-group; }\n"
	"tr { page-break-inside: avoid; }\n"
	"table.fields th { width: 30%; background: #f0f0f0;"
	" font-weight: 600; }\n"
	/* A Chinese label on one line: the form's terms stay whole. */
	"body.zh table.fields th, body.zh table.grid th"
	" { white-space: nowrap; }\n"
	"table.grid th { background: #f0f0f0; }\n"
	"table.grid { font-size: 8.5pt; }\n"
	/* Names and dates in a grid break only where they must. */
	"table.grid td { word-break: keep-all; }\n"
	"td.nw { white-space: nowrap; }\n"
	"table.sign td { height: 30pt; }\n"
	".empty { color: #777; }\n"
	".note { font-size: 8.5pt; margin: 2pt 0; }\n"
	"footer { font-size: 8pt; margin-top: 8pt; border-top: 1px solid #000;"
	" padding-top: 2pt; overflow-wrap: anywhere; }\n"
	"@media screen { body { max-width: 190mm; margin: 10mm auto; } }\n";

static void
doc_close_fields(struct doc *d)
{
	if (d->in_fields && d->fmt == CLI_FMT_HTML)
		printf("</table>\n");
	if (d->in_fields && d->fmt == CLI_FMT_MD)
		printf("\n");
	d->in_fields = 0;
}

/* s as the format wants it; the caller frees. */
static char *
doc_quote(const struct doc *d, const char *s)
{
	char	*m, *q;

	switch (d->fmt) {
	case CLI_FMT_HTML:
		m = text_mend(s, 0, 1);
		q = text_html(m);
		free(m);
		return q;
	case CLI_FMT_MD:
		m = text_mend(s, 0, 1);
		q = text_md(m);
		free(m);
		return q;
	default:
		return text_mend(s, 1, d->utf8);
	}
}

void
doc_begin(struct doc *d, const char *title, const char *formno,
    const char *subtitle)
{
	char	*t, *f, *s;

	t = doc_quote(d, title);
	f = doc_quote(d, formno);
	s = doc_quote(d, subtitle);
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n"
		    "<meta charset=\"utf-8\">\n<title>%s %s</title>\n"
		    "<style>\n%s%s\n</style>\n</head>\n<body class=\"%s\">\n",
		    d->en ? "en" : "zh-Hant-TW", f, t, doc_css,
		    d->extra_css != NULL ? d->extra_css : "",
		    d->en ? "en" : "zh");
		printf("<div class=\"formno\"><span>%s</span>"
		    "<span>%s</span></div>\n<h1>%s</h1>\n", s, f, t);
		break;
	case CLI_FMT_MD:
		printf("# %s\n\n%s  \n%s\n\n", t, f, s);
		break;
	default:
		printf("%s\n%s\n%s\n", t, f, s);
		break;
	}
	free(t);
	free(f);
	free(s);
}

void
doc_heading(struct doc *d, const char *title)
{
	char	*t;

	doc_close_fields(d);
	t = doc_quote(d, title);
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<h2>%s</h2>\n", t);
		break;
	case CLI_FMT_MD:
		printf("## %s\n\n", t);
		break;
	default:
		printf("\n== %s ==\n", t);
		break;
	}
	free(t);
}

/* Text: continuation lines of a value line up under its first line. */
static void
doc_text_value(const struct doc *d, const char *label, const char *value)
{
	const char	*p, *nl;
	char		*line, *m, *l;
	size_t		 w, pad = 26;

	l = text_mend(label, 1, d->utf8);
	w = text_width(l, d->utf8);
	/* A long label gets a line of its own. */
	if (w < pad)
		printf("%s%*s", l, (int)(pad - w), "");
	else
		printf("%s\n%*s", l, (int)pad, "");
	free(l);
	for (p = value;; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			line = xstrdup(p);
		else {
			line = xmalloc((size_t)(nl - p) + 1);
			memcpy(line, p, (size_t)(nl - p));
			line[nl - p] = '\0';
		}
		m = text_mend(line, 1, d->utf8);
		printf("%s\n", m);
		free(m);
		free(line);
		if (nl == NULL)
			break;
		printf("%*s", (int)pad, "");
	}
}

void
doc_field(struct doc *d, const char *label, const char *value)
{
	const char	*empty = d->en ? "(not filled in)" : "（未填寫）";
	char		*l, *v;
	int		 none = value == NULL || *value == '\0';

	if (none)
		value = empty;
	switch (d->fmt) {
	case CLI_FMT_HTML:
		if (!d->in_fields)
			printf("<table class=\"fields\">\n");
		l = doc_quote(d, label);
		v = doc_quote(d, value);
		printf("<tr><th>%s</th><td%s>%s</td></tr>\n", l,
		    none ? " class=\"empty\"" : "", v);
		free(l);
		free(v);
		break;
	case CLI_FMT_MD:
		l = doc_quote(d, label);
		v = doc_quote(d, value);
		printf("- **%s**: %s\n", l, v);
		free(l);
		free(v);
		break;
	default:
		doc_text_value(d, label, value);
		break;
	}
	d->in_fields = 1;
}

void
doc_note(struct doc *d, const char *text)
{
	char	*t;

	doc_close_fields(d);
	t = doc_quote(d, text);
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<p class=\"note\">%s</p>\n", t);
		break;
	case CLI_FMT_MD:
		printf("%s\n\n", t);
		break;
	default:
		printf("%s\n", t);
		break;
	}
	free(t);
}

void
doc_table_begin(struct doc *d, const char *const *titles, size_t n,
    const char *cls)
{
	size_t	 i;
	char	*t;

	doc_close_fields(d);
	d->ncols = n;
	d->nrows = 0;
	d->nowrap = 0;
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<table class=\"%s\">\n<thead><tr>", cls);
		for (i = 0; i < n; i++) {
			t = doc_quote(d, titles[i]);
			printf("<th>%s</th>", t);
			free(t);
		}
		printf("</tr></thead>\n<tbody>\n");
		break;
	case CLI_FMT_MD:
		printf("|");
		for (i = 0; i < n; i++) {
			t = doc_quote(d, titles[i]);
			printf(" %s |", t);
			free(t);
		}
		printf("\n|");
		for (i = 0; i < n; i++)
			printf(" --- |");
		printf("\n");
		break;
	default:
		d->cols = xcalloc(n, sizeof(*d->cols));
		for (i = 0; i < n; i++) {
			d->cols[i].title = titles[i];
			d->cols[i].field = (int)i;
			d->cols[i].how = CLI_SHOW_TEXT;
		}
		cli_table_init(&d->t, d->cols, n, 1, d->utf8);
		d->t.maxwidth = cli_term_width();
		break;
	}
}

void
doc_table_row(struct doc *d, const char *const *cells)
{
	size_t	 i;
	char	*c;

	d->nrows++;
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<tr>");
		for (i = 0; i < d->ncols; i++) {
			c = doc_quote(d, cells[i] != NULL ? cells[i] : "");
			printf("<td%s>%s</td>", d->nowrap & (1U << i) ?
			    " class=\"nw\"" : "", c);
			free(c);
		}
		printf("</tr>\n");
		break;
	case CLI_FMT_MD:
		printf("|");
		for (i = 0; i < d->ncols; i++) {
			c = doc_quote(d, cells[i] != NULL ? cells[i] : "");
			printf(" %s |", c);
			free(c);
		}
		printf("\n");
		break;
	default:
		for (i = 0; i < d->ncols; i++)
			cli_table_add(&d->t, cells[i] != NULL ? cells[i] : "");
		break;
	}
}

void
doc_table_end(struct doc *d, const char *empty)
{
	char	*e;

	switch (d->fmt) {
	case CLI_FMT_HTML:
		if (d->nrows == 0) {
			e = doc_quote(d, empty);
			printf("<tr><td colspan=\"%zu\" class=\"empty\">%s"
			    "</td></tr>\n", d->ncols, e);
			free(e);
		}
		printf("</tbody>\n</table>\n");
		break;
	case CLI_FMT_MD:
		if (d->nrows == 0) {
			e = doc_quote(d, empty);
			printf("\n%s\n", e);
			free(e);
		}
		printf("\n");
		break;
	default:
		if (d->nrows == 0)
			printf("  %s\n", empty);
		else
			cli_table_print(&d->t, 2);
		cli_table_free(&d->t);
		free(d->cols);
		d->cols = NULL;
		break;
	}
}

/* A box of empty rows for people to sign by hand. */
void
doc_sign(struct doc *d, const char *const *titles, size_t n, int rows)
{
	const char	*blank[8] = { 0 };
	size_t		 i;
	int		 r;

	if (n > CLI_NITEMS(blank))
		n = CLI_NITEMS(blank);
	for (i = 0; i < n; i++)
		blank[i] = d->fmt == CLI_FMT_TEXT ? "____________" : "";
	doc_table_begin(d, titles, n, "grid sign");
	for (r = 0; r < rows; r++)
		doc_table_row(d, blank);
	doc_table_end(d, "");
}

void
doc_end(struct doc *d, const char *footer)
{
	char	*f;

	doc_close_fields(d);
	f = doc_quote(d, footer);
	switch (d->fmt) {
	case CLI_FMT_HTML:
		printf("<footer>%s</footer>\n</body>\n</html>\n", f);
		break;
	case CLI_FMT_MD:
		printf("---\n\n%s\n", f);
		break;
	default:
		printf("\n%s\n", f);
		break;
	}
	free(f);
}
