/*
 * conf_lex.c: the rules language's tokens and values.
 *
 * A hand-written lexer: statements end at a newline or ';', blocks are
 * braces, strings are quoted with C's escapes, '#' starts a comment and
 * '\' at the end of a line continues it.  Here too are the readers of
 * values the statements share (strings, numbers, durations, yes/no), the
 * braces of a block, and include, which reads a file only if it is a
 * regular one.  Error recovery is described in conf_parse.h.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_parse.h"
#include "lazylib.h"
#include "util.h"

#define CONF_MAX_INCLUDE_DEPTH	8
#define CONF_MAX_FILE_SIZE	(4L * 1024 * 1024)
#define CONF_MAX_TOKEN		4096

void
conf_errors_clear(struct conf_errors *errs)
{
	size_t	 i;

	for (i = 0; i < errs->count; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->count = 0;
}

static void	conf_verror(struct conf_errors *, const char *, int,
		    const char *, va_list)
		    __attribute__((format(printf, 4, 0)));

static void
conf_verror(struct conf_errors *errs, const char *file, int line,
    const char *fmt, va_list ap)
{
	char	*msg, *full;

	if (errs->count > CONF_MAX_ERRORS)
		return;
	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	/* Line 0 is the whole file (it cannot be opened, it lacks a policy). */
	if (errs->count == CONF_MAX_ERRORS)
		xasprintf(&full, "%s:%d: too many errors, giving up", file,
		    line);
	else if (line == 0)
		xasprintf(&full, "%s: %s", file, msg);
	else
		xasprintf(&full, "%s:%d: %s", file, line, msg);
	free(msg);
	errs->msg = xreallocarray(errs->msg, errs->count + 1, sizeof(char *));
	errs->msg[errs->count++] = full;
}

void
conf_error_at(struct conf_errors *errs, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void
conf_error_at(struct conf_errors *errs, const char *file, int line,
    const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(errs, file, line, fmt, ap);
	va_end(ap);
}

/* An error at the current token. */
void
conf_error(struct conf_parser *p, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	conf_verror(p->errs, p->file, p->tokline, fmt, ap);
	va_end(ap);
}

/* What LIB is called in the rules' errors. */
static const char *
conf_lib_name(enum lazylib lib)
{
	switch (lib) {
	case LAZYLIB_CURL:
		return "libcurl";
	case LAZYLIB_PQ:
		return "libpq";
	case LAZYLIB_TLS:
		return "OpenSSL (libssl, libcrypto, libevent_openssl)";
	case LAZYLIB_PCAP:
		return "libpcap";
	case LAZYLIB_PAM:
		return "libpam";
	}
	return "?";
}

/*
 * WHAT, the statement just read, needs LIB (include/lazylib.h): loaded
 * now, while the rules are read, or the rules are refused with why.
 */
int
conf_need_lib(struct conf_parser *p, enum lazylib lib, const char *what)
{
	const char	*err;

	if ((err = lazylib_load(lib)) == NULL)
		return 0;
	conf_error(p, "%s needs %s, which cannot be loaded: %s", what,
	    conf_lib_name(lib), err);
	return -1;
}

/* Keep a copy of every file name; checks point into this list. */
const char *
conf_intern_file(struct conf *conf, const char *name)
{
	conf->files = xreallocarray(conf->files, conf->nfiles + 1,
	    sizeof(char *));
	conf->files[conf->nfiles] = xstrdup(name);
	return conf->files[conf->nfiles++];
}

static int
conf_is_word_char(int c)
{
	return c > ' ' && c != '{' && c != '}' && c != ';' && c != '"' &&
	    c != '#' && c != 0x7f;
}

/* Read the next token into p->tok / p->text. */
static void
conf_lex(struct conf_parser *p)
{
	char	 tmp[CONF_MAX_TOKEN];
	size_t	 n = 0;
	int	 c;

	free(p->text);
	p->text = NULL;
	for (;;) {
		if (p->pos >= p->len) {
			p->tok = TOK_EOF;
			p->tokline = p->line;
			return;
		}
		c = (unsigned char)p->buf[p->pos];
		if (c == '#') {
			while (p->pos < p->len && p->buf[p->pos] != '\n')
				p->pos++;
			continue;
		}
		if (c == '\\' && p->pos + 1 < p->len &&
		    p->buf[p->pos + 1] == '\n') {
			p->pos += 2;	/* line continuation */
			p->line++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			p->pos++;
			continue;
		}
		break;
	}
	p->tokline = p->line;
	p->pos++;
	switch (c) {
	case '\n':
		p->line++;
		p->tok = TOK_EOL;
		return;
	case ';':
		p->tok = TOK_EOL;
		return;
	case '{':
		p->tok = TOK_LBRACE;
		return;
	case '}':
		p->tok = TOK_RBRACE;
		return;
	case '"':
		for (;;) {
			if (p->pos >= p->len || p->buf[p->pos] == '\n') {
				conf_error(p, "unterminated string");
				p->tok = TOK_ERROR;
				return;
			}
			c = (unsigned char)p->buf[p->pos++];
			if (c == '"')
				break;
			if (c == '\\' && p->pos < p->len &&
			    p->buf[p->pos] != '\n') {
				c = (unsigned char)p->buf[p->pos++];
				if (c == 'n')
					c = '\n';
				else if (c == 'r')
					c = '\r';
				else if (c == 't')
					c = '\t';
				else if (c != '"' && c != '\\') {
					conf_error(p, "unknown escape \\%c "
					    "in string", isprint(c) ? c : '?');
					c = '?';
				}
			} else if (c == 0 || (c < ' ' && c != '\t')) {
				conf_error(p, "control character in string");
				c = '?';
			}
			if (n + 1 >= sizeof(tmp)) {
				conf_error(p, "string too long");
				p->tok = TOK_ERROR;
				while (p->pos < p->len &&
				    p->buf[p->pos] != '"' &&
				    p->buf[p->pos] != '\n')
					p->pos++;
				if (p->pos < p->len && p->buf[p->pos] == '"')
					p->pos++;
				return;
			}
			tmp[n++] = (char)c;
		}
		tmp[n] = '\0';
		p->text = xstrdup(tmp);
		p->tok = TOK_STRING;
		return;
	default:
		if (!conf_is_word_char(c)) {
			conf_error(p, "unexpected character 0x%02x", c);
			p->tok = TOK_ERROR;
			return;
		}
		tmp[n++] = (char)c;
		while (p->pos < p->len &&
		    conf_is_word_char((unsigned char)p->buf[p->pos])) {
			if (n + 1 >= sizeof(tmp)) {
				conf_error(p, "word too long");
				while (p->pos < p->len && conf_is_word_char(
				    (unsigned char)p->buf[p->pos]))
					p->pos++;
				p->tok = TOK_ERROR;
				return;
			}
			tmp[n++] = p->buf[p->pos++];
		}
		tmp[n] = '\0';
		p->text = xstrdup(tmp);
		p->tok = TOK_WORD;
		return;
	}
}

/* Advance unless the current token was pushed back. */
void
conf_next(struct conf_parser *p)
{
	if (p->peeked) {
		p->peeked = 0;
		return;
	}
	conf_lex(p);
}

void
conf_pushback(struct conf_parser *p)
{
	p->peeked = 1;
}

int
conf_at_end(const struct conf_parser *p)
{
	return p->tok == TOK_EOL || p->tok == TOK_EOF ||
	    p->tok == TOK_RBRACE || p->tok == TOK_LBRACE;
}

const char *
conf_tok_desc(const struct conf_parser *p)
{
	switch (p->tok) {
	case TOK_EOF:
		return "end of file";
	case TOK_EOL:
		return "end of line";
	case TOK_LBRACE:
		return "'{'";
	case TOK_RBRACE:
		return "'}'";
	default:
		return p->text != NULL ? p->text : "bad token";
	}
}

/*
 * Skip to the end of the statement after an error.  A '}' ends the
 * statement too and is left for the block to see.
 */
void
conf_skip_statement(struct conf_parser *p)
{
	while (p->tok != TOK_EOL && p->tok != TOK_EOF) {
		if (p->tok == TOK_RBRACE) {
			conf_pushback(p);
			return;
		}
		conf_lex(p);
	}
}

/* The statement must end here. */
int
conf_end_statement(struct conf_parser *p)
{
	conf_next(p);
	if (p->tok == TOK_EOL || p->tok == TOK_EOF)
		return 0;
	if (p->tok == TOK_RBRACE) {
		conf_pushback(p);
		return 0;
	}
	conf_error(p, "unexpected \"%s\" at end of statement",
	    conf_tok_desc(p));
	conf_skip_statement(p);
	return -1;
}

int
conf_next_string(struct conf_parser *p, const char *what, char **out)
{
	conf_next(p);
	if (p->tok == TOK_WORD || p->tok == TOK_STRING) {
		*out = xstrdup(p->text);
		return 0;
	}
	if (p->tok != TOK_ERROR)
		conf_error(p, "missing %s", what);
	if (conf_at_end(p))
		conf_pushback(p);
	return -1;
}

/* The next token must be a word (a number, a duration...): WHAT it is. */
int
conf_next_word(struct conf_parser *p, const char *what)
{
	conf_next(p);
	if (p->tok == TOK_WORD)
		return 0;
	if (p->tok != TOK_ERROR)
		conf_error(p, "missing %s", what);
	if (conf_at_end(p))
		conf_pushback(p);
	return -1;
}

int
conf_next_number(struct conf_parser *p, const char *what, long long min,
    long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (conf_next_word(p, what) == -1)
		return -1;
	errno = 0;
	v = strtoll(p->text, &end, 10);
	if (!isdigit((unsigned char)p->text[0]) || *end != '\0' ||
	    errno == ERANGE) {
		conf_error(p, "%s: \"%s\" is not a number", what, p->text);
		return -1;
	}
	if (v < min || v > max) {
		conf_error(p, "%s %lld out of range (%lld-%lld)", what, v,
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* "250ms", "30s", "5m", "4h", "3d" into milliseconds. */
int
conf_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char	*suffix;
		int64_t		 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	char		*end;
	long long	 v;
	size_t		 i;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms)
			return -1;
		*ms = v * units[i].ms;
		return 0;
	}
	return -1;
}

int
conf_next_duration(struct conf_parser *p, const char *what, int64_t min,
    int64_t max, int64_t *out)
{
	char	 a[32], b[32];
	int64_t	 v;

	if (conf_next_word(p, what) == -1)
		return -1;
	if (conf_parse_duration(p->text, &v) == -1) {
		conf_error(p, "%s: \"%s\" is not a duration (a number with "
		    "ms, s, m, h or d)", what, p->text);
		return -1;
	}
	if (v < min || v > max) {
		conf_error(p, "%s %s out of range (%s-%s)", what, p->text,
		    duration_fmt(min, a, sizeof(a)),
		    duration_fmt(max, b, sizeof(b)));
		return -1;
	}
	*out = v;
	return 0;
}

/* Expect the word KW next; returns 0 when it is there. */
int
conf_expect_word(struct conf_parser *p, const char *kw)
{
	conf_next(p);
	if (p->tok == TOK_WORD && strcmp(p->text, kw) == 0)
		return 0;
	conf_error(p, "expected \"%s\", found \"%s\"", kw, conf_tok_desc(p));
	if (conf_at_end(p))
		conf_pushback(p);
	return -1;
}

int
conf_next_yesno(struct conf_parser *p, const char *what, int *out)
{
	conf_next(p);
	if (p->tok == TOK_WORD && strcmp(p->text, "yes") == 0)
		*out = 1;
	else if (p->tok == TOK_WORD && strcmp(p->text, "no") == 0)
		*out = 0;
	else {
		conf_error(p, "%s must be yes or no, not \"%s\"", what,
		    conf_tok_desc(p));
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	return 0;
}

/* A path relative to the directory of the file that names it. */
char *
conf_path(const struct conf_parser *p, const char *path)
{
	char	*full;

	if (path[0] == '/' || p->dir == NULL)
		return xstrdup(path);
	xasprintf(&full, "%s/%s", p->dir, path);
	return full;
}

/* include "FILE": a path relative to the including file's directory. */
int
conf_parse_include(struct conf_parser *p, void *arg)
{
	char	*name, *path;
	int	 rc;

	(void)arg;
	if (conf_next_string(p, "file name after \"include\"", &name) == -1)
		return -1;
	path = conf_path(p, name);
	free(name);
	if ((rc = conf_end_statement(p)) == 0) {
		if (p->depth + 1 >= CONF_MAX_INCLUDE_DEPTH)
			conf_error(p, "includes nested too deeply at \"%s\"",
			    path);
		else
			conf_parse_file(p->conf, p->errs, path, p->depth + 1,
			    p);
	}
	free(path);
	return rc;
}

/*
 * The statement parser for WORD in TABLE (ended by a NULL word), or NULL:
 * the caller names the block in its "unknown keyword" message.
 */
const struct conf_keyword *
conf_keyword_find(const struct conf_keyword *table, const char *word)
{
	for (; table->word != NULL; table++)
		if (strcmp(table->word, word) == 0)
			return table;
	return NULL;
}

/*
 * The braces of a block (system, policy, contact, anomaly) and the
 * statements in them; WHAT names the block in messages, LINE is where it
 * began.  Each statement's first word is current when STMT is called; a
 * broken statement (STMT returned -1) is skipped here.  Returns -1 when
 * the '{' is missing, for the caller's caller to skip the statement.
 */
int
conf_parse_block(struct conf_parser *p, const char *what, int line,
    int (*stmt)(struct conf_parser *, void *), void *arg)
{
	do {
		conf_next(p);
	} while (p->tok == TOK_EOL);
	if (p->tok != TOK_LBRACE) {
		conf_error(p, "expected '{' after %s", what);
		return -1;
	}
	for (;;) {
		conf_next(p);
		switch (p->tok) {
		case TOK_EOL:
			continue;
		case TOK_RBRACE:
			return conf_end_statement(p);
		case TOK_EOF:
			conf_error_at(p->errs, p->file, line, "%s: missing '}'",
			    what);
			return 0;
		case TOK_WORD:
			if (stmt(p, arg) == -1)
				conf_skip_statement(p);
			break;
		default:
			conf_error(p, "unexpected \"%s\" in %s",
			    conf_tok_desc(p), what);
			conf_skip_statement(p);
			break;
		}
	}
}

/*
 * PATH opened for reading if it is a regular file, with its stat in ST;
 * NULL with errno set otherwise (EFTYPE_CONF: not a regular file).  The
 * open does not wait: without O_NONBLOCK, a FIFO would block until a
 * writer came (for -n, for ever; on a reload, the daemon's loop).
 */
FILE *
conf_open_regular(const char *path, struct stat *st)
{
	FILE	*fp;
	int	 fd, flags;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return NULL;
	if (fstat(fd, st) == -1) {
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		errno = EFTYPE_CONF;
		return NULL;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return NULL;
	}
	return fp;
}

/*
 * The first line of PATH, a secret (the SMTP account, a webhook's key),
 * into BUF of LEN bytes: its length, or -1 after an error prefixed with
 * WHAT.  The file must be the daemon's alone: one that its group or
 * others may read or write is refused, as ssh refuses a readable private
 * key.  The caller clears BUF when done with it.
 */
ssize_t
conf_read_secret(struct conf_parser *p, const char *what, const char *path,
    char *buf, size_t len)
{
	struct stat	 st;
	FILE		*fp;
	size_t		 n;

	if ((fp = conf_open_regular(path, &st)) == NULL) {
		conf_error(p, "%s \"%s\": %s", what, path,
		    errno == EFTYPE_CONF ? "not a regular file" :
		    strerror(errno));
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		conf_error(p, "%s \"%s\": mode %04o lets group or others read "
		    "it; make it readable by the daemon's user only (chmod "
		    "600)", what, path, (unsigned)(st.st_mode & 07777));
		fclose(fp);
		return -1;
	}
	n = fread(buf, 1, len - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return (ssize_t)n;
}

void
conf_parse_text(struct conf_parser *p)
{
	p->pos = 0;
	p->line = 1;
	p->peeked = 0;
	conf_parse_statements(p);
	free(p->text);
	p->text = NULL;
}

/*
 * Read and parse one file.  FROM is the parser of the file that included
 * it, if any: a file that cannot be read is reported where it was named.
 */
void
conf_parse_file(struct conf *conf, struct conf_errors *errs,
    const char *path, int depth, struct conf_parser *from)
{
	struct conf_parser	 p;
	char			*buf, *dircopy;
	struct stat		 st;
	FILE			*fp;
	size_t			 n;

	if ((fp = conf_open_regular(path, &st)) == NULL &&
	    errno == EFTYPE_CONF) {
		if (from != NULL)
			conf_error(from, "\"%s\": not a regular file", path);
		else
			conf_error_at(errs, path, 0, "not a regular file");
		return;
	}
	if (fp == NULL) {
		if (from != NULL)
			conf_error(from, "cannot open \"%s\": %s", path,
			    strerror(errno));
		else
			conf_error_at(errs, path, 0, "cannot open: %s",
			    strerror(errno));
		return;
	}
	if (st.st_size > CONF_MAX_FILE_SIZE) {
		conf_error_at(errs, path, 0, "not a regular file of at "
		    "most %ld bytes", CONF_MAX_FILE_SIZE);
		fclose(fp);
		return;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	buf[n] = '\0';

	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.errs = errs;
	p.depth = depth;
	p.file = conf_intern_file(conf, path);
	dircopy = xstrdup(path);
	p.dir = xstrdup(dirname(dircopy));
	free(dircopy);
	p.buf = buf;
	p.len = n;
	conf_parse_text(&p);
	free(p.dir);
	free(buf);
}
