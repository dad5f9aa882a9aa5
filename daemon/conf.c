/*
 * conf.c: the rules language.
 *
 * A hand-written lexer and recursive-descent parser.  Statements end at a
 * newline or ';'; blocks are braces.  An error is recorded with its file
 * and line, the rest of the statement is skipped, and parsing goes on, so
 * one run lists every mistake in the file.  Checks that need the whole
 * file (duplicates, required settings) run in a second pass.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <event2/util.h>
#include <pcap/pcap.h>

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
#include "probe.h"
#include "util.h"

#define CONF_MAX_INCLUDE_DEPTH	8
#define CONF_MAX_FILE_SIZE	(4L * 1024 * 1024)
#define CONF_MAX_TOKEN		4096

enum conf_tok {
	TOK_EOF,
	TOK_EOL,	/* newline or ';' */
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_ERROR
};

struct conf_parser {
	struct conf		*conf;
	struct conf_errors	*errs;
	const char		*file;	/* owned by conf->files */
	char			*dir;	/* for relative paths */
	const char		*buf;
	size_t			 len;
	size_t			 pos;
	int			 line;
	int			 depth;
	enum conf_tok		 tok;	/* the current token */
	char			*text;	/* its text, for WORD and STRING */
	int			 tokline;
	int			 peeked;
};

static void	conf_parse_file(struct conf *, struct conf_errors *,
	    const char *, int, struct conf_parser *);
static int	conf_parse_set_mail(struct conf_parser *, const char *);
static int	conf_parse_set_dns(struct conf_parser *, const char *);

void
conf_errors_clear(struct conf_errors *errs)
{
	int	 i;

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
	if (errs->count == CONF_MAX_ERRORS)
		xasprintf(&full, "%s:%d: too many errors, giving up", file,
		    line);
	else
		xasprintf(&full, "%s:%d: %s", file, line, msg);
	free(msg);
	errs->msg = xrealloc(errs->msg, (errs->count + 1) * sizeof(char *));
	errs->msg[errs->count++] = full;
}

static void
conf_error_at(struct conf_errors *errs, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
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

/* Keep a copy of every file name; checks point into this list. */
static const char *
conf_intern_file(struct conf *conf, const char *name)
{
	conf->files = xrealloc(conf->files,
	    (conf->nfiles + 1) * sizeof(char *));
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
static void
conf_next(struct conf_parser *p)
{
	if (p->peeked) {
		p->peeked = 0;
		return;
	}
	conf_lex(p);
}

static void
conf_pushback(struct conf_parser *p)
{
	p->peeked = 1;
}

static int
conf_at_end(const struct conf_parser *p)
{
	return p->tok == TOK_EOL || p->tok == TOK_EOF ||
	    p->tok == TOK_RBRACE || p->tok == TOK_LBRACE;
}

static const char *
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
static void
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
static int
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

int
conf_next_number(struct conf_parser *p, const char *what, long long min,
    long long max, long long *out)
{
	char		*end;
	long long	 v;

	conf_next(p);
	if (p->tok != TOK_WORD) {
		if (p->tok != TOK_ERROR)
			conf_error(p, "missing %s", what);
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
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

	conf_next(p);
	if (p->tok != TOK_WORD) {
		if (p->tok != TOK_ERROR)
			conf_error(p, "missing %s", what);
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
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
static int
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

static int
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
static char *
conf_path(const struct conf_parser *p, const char *path)
{
	char	*full;

	if (path[0] == '/' || p->dir == NULL)
		return xstrdup(path);
	xasprintf(&full, "%s/%s", p->dir, path);
	return full;
}

/* A zone is a file of the tz database ("Asia/Taipei", "UTC"). */
static int
conf_valid_timezone(const char *tz)
{
	char		 path[512];
	struct stat	 st;

	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") != NULL)
		return -1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/*
 * maintenance "SYSTEM" daily 02:00 for 2h
 * maintenance "SYSTEM" weekly sunday 02:00 for 2h
 * maintenance "SYSTEM" once 2026-12-01T02:00 for 4h
 */
static void
conf_parse_maintenance(struct conf_parser *p)
{
	struct maint_conf	*m;
	char			*word = NULL;
	int			 ok = 0;

	m = xcalloc(1, sizeof(*m));
	m->file = p->file;
	m->line = p->tokline;
	if (conf_next_string(p, "system name after \"maintenance\"",
	    &m->system) == -1 ||
	    conf_next_string(p, "daily, weekly or once", &word) == -1)
		goto done;
	if (strcmp(word, "daily") == 0)
		m->repeat = MAINT_DAILY;
	else if (strcmp(word, "weekly") == 0) {
		m->repeat = MAINT_WEEKLY;
		free(word);
		word = NULL;
		if (conf_next_string(p, "day of the week", &word) == -1)
			goto done;
		if ((m->wday = maint_parse_day(word)) == -1) {
			conf_error(p, "\"%s\" is not a day of the week",
			    word);
			goto done;
		}
	} else if (strcmp(word, "once") == 0)
		m->repeat = MAINT_ONCE;
	else {
		conf_error(p, "expected daily, weekly or once, not \"%s\"",
		    word);
		goto done;
	}
	free(word);
	word = NULL;
	if (conf_next_string(p, "start time", &word) == -1)
		goto done;
	if (m->repeat == MAINT_ONCE ? maint_parse_when(word, &m->at) == -1 :
	    maint_parse_clock(word, &m->secs) == -1) {
		conf_error(p, "\"%s\" is not a %s", word,
		    m->repeat == MAINT_ONCE ? "date and time "
		    "(2026-12-01T02:00)" : "time of day (02:00)");
		goto done;
	}
	if (conf_expect_word(p, "for") == -1 ||
	    conf_next_duration(p, "maintenance length", 1000,
	    30 * 86400000LL, &m->length_ms) == -1)
		goto done;
	ok = conf_end_statement(p) == 0;
 done:
	free(word);
	if (!ok) {
		conf_skip_statement(p);
		free(m->system);
		free(m);
		return;
	}
	TAILQ_INSERT_TAIL(&p->conf->maints, m, entry);
}

/*
 * "set user" and "set group": whom the daemon becomes after it opened its
 * sockets as root.  Whether the account exists is checked at start (see
 * priv.c), where it matters; root is refused here, it defeats the point.
 */
static void
conf_parse_set_account(struct conf_parser *p, const char *what)
{
	char	**field, *value;

	field = what[0] == 'u' ? &p->conf->user : &p->conf->group;
	if (conf_next_string(p, what[0] == 'u' ? "user name" : "group name",
	    &value) == -1) {
		conf_skip_statement(p);
		return;
	}
	if (value[0] == '\0' || strcmp(value, "root") == 0 ||
	    strcmp(value, "0") == 0)
		conf_error(p, "set %s \"%s\": name an unprivileged %s", what,
		    value, what);
	free(*field);
	*field = value;
	conf_end_statement(p);
}

/* role operator|auditor group "NAME" */
static void
conf_parse_role(struct conf_parser *p)
{
	struct role_conf	*r;
	char			*word = NULL;

	r = xcalloc(1, sizeof(*r));
	r->file = p->file;
	r->line = p->line;
	if (conf_next_string(p, "operator or auditor after \"role\"",
	    &word) == -1)
		goto bad;
	if (strcmp(word, "operator") == 0)
		r->role = ROLE_OPERATOR;
	else if (strcmp(word, "auditor") == 0)
		r->role = ROLE_AUDITOR;
	else {
		conf_error(p, "unknown role \"%s\": operator or auditor",
		    word);
		goto bad;
	}
	if (conf_expect_word(p, "group") == -1 ||
	    conf_next_string(p, "group name", &r->group) == -1)
		goto bad;
	if (r->group[0] == '\0') {
		conf_error(p, "empty group name");
		goto bad;
	}
	if (conf_end_statement(p) == -1)
		goto bad;
	free(word);
	TAILQ_INSERT_TAIL(&p->conf->roles, r, entry);
	return;
 bad:
	conf_skip_statement(p);
	free(word);
	free(r->group);
	free(r);
}

/* category "CODE" "中文名稱" "English name" */
static void
conf_parse_category(struct conf_parser *p)
{
	struct category_conf	*c;
	const char		*s;

	c = xcalloc(1, sizeof(*c));
	c->file = p->file;
	c->line = p->line;
	if (conf_next_string(p, "category code", &c->code) == -1 ||
	    conf_next_string(p, "category name in Chinese",
	    &c->name_zh) == -1 ||
	    conf_next_string(p, "category name in English",
	    &c->name_en) == -1)
		goto bad;
	for (s = c->code; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    *s == '-'))
			break;
	if (c->code[0] == '\0' || *s != '\0' || strlen(c->code) > 16) {
		conf_error(p, "category code \"%s\": capital letters, "
		    "digits and '-', at most 16", c->code);
		goto bad;
	}
	if (conf_end_statement(p) == -1)
		goto bad;
	TAILQ_INSERT_TAIL(&p->conf->categories, c, entry);
	return;
 bad:
	conf_skip_statement(p);
	free(c->code);
	free(c->name_zh);
	free(c->name_en);
	free(c);
}

static void
conf_parse_set(struct conf_parser *p)
{
	char	*name, *value;

	if (conf_next_string(p, "setting name after \"set\"", &name) == -1) {
		conf_skip_statement(p);
		return;
	}
	if (strcmp(name, "database") == 0) {
		if (conf_next_string(p, "database path", &value) == 0) {
			free(p->conf->database);
			p->conf->database = conf_path(p, value);
			free(value);
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(name, "socket") == 0) {
		if (conf_next_string(p, "control socket path", &value) == 0) {
			free(p->conf->socket);
			p->conf->socket = conf_path(p, value);
			free(value);
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(name, "timezone") == 0) {
		if (conf_next_string(p, "time zone", &value) == 0) {
			if (conf_valid_timezone(value) == -1)
				conf_error(p, "unknown time zone \"%s\"",
				    value);
			free(p->conf->timezone);
			p->conf->timezone = value;
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(name, "user") == 0 || strcmp(name, "group") == 0) {
		conf_parse_set_account(p, name);
	} else if (strcmp(name, "store-alert-after") == 0) {
		/* How long the database may refuse writes before operators
		   are alerted (store.c holds the changes meanwhile). */
		if (conf_next_duration(p, "store-alert-after", 1000,
		    7 * 86400000LL, &p->conf->store_alert_after_ms) == 0)
			conf_end_statement(p);
		else
			conf_skip_statement(p);
	} else if (!conf_parse_set_mail(p, name) &&
	    !conf_parse_set_dns(p, name)) {
		conf_error(p, "unknown setting \"%s\"", name);
		conf_skip_statement(p);
	}
	free(name);
}

static void
conf_parse_include(struct conf_parser *p)
{
	char	*name, *path;

	if (conf_next_string(p, "file name after \"include\"", &name) == -1) {
		conf_skip_statement(p);
		return;
	}
	path = conf_path(p, name);
	free(name);
	if (conf_end_statement(p) == 0) {
		if (p->depth + 1 >= CONF_MAX_INCLUDE_DEPTH)
			conf_error(p, "includes nested too deeply at \"%s\"",
			    path);
		else
			conf_parse_file(p->conf, p->errs, path, p->depth + 1,
			    p);
	}
	free(path);
}

static int
conf_parse_check(struct conf_parser *p, struct system_conf *sys)
{
	struct check_conf	*cc;
	const struct probe_ops	*ops;
	char			*kind;
	int			 rc, failed = 0;

	if (conf_next_string(p, "check kind (tcp)", &kind) == -1) {
		conf_skip_statement(p);
		return -1;
	}
	if ((ops = probe_find(kind)) == NULL) {
		conf_error(p, "unknown check kind \"%s\"", kind);
		free(kind);
		conf_skip_statement(p);
		return -1;
	}
	free(kind);

	cc = xcalloc(1, sizeof(*cc));
	cc->ops = ops;
	cc->file = p->file;
	cc->line = p->tokline;
	cc->every_ms = CONF_DEFAULT_EVERY_MS;
	cc->timeout_ms = CONF_DEFAULT_TIMEOUT_MS;
	if (conf_next_string(p, "check target", &cc->target) == -1)
		failed = 1;
	while (!failed) {
		conf_next(p);
		if (conf_at_end(p)) {
			conf_pushback(p);
			break;
		}
		if (p->tok != TOK_WORD) {
			if (p->tok != TOK_ERROR)
				conf_error(p, "unexpected string \"%s\" in "
				    "check", p->text);
			failed = 1;
			break;
		}
		if (strcmp(p->text, "every") == 0) {
			failed = conf_next_duration(p, "every", 100,
			    86400000, &cc->every_ms) == -1;
		} else if (strcmp(p->text, "timeout") == 0) {
			failed = conf_next_duration(p, "timeout", 10,
			    3600000, &cc->timeout_ms) == -1;
			cc->set_timeout = 1;
		} else {
			/* conf_next_*() replaces p->text: keep the word. */
			char *word = xstrdup(p->text);

			if ((rc = ops->option(p, cc, word)) == 0)
				conf_error(p, "unknown %s check option "
				    "\"%s\"", ops->name, word);
			failed = rc != 1;
			free(word);
		}
	}
	if (!failed && ops->finish(p, cc) == -1)
		failed = 1;
	if (failed) {
		conf_skip_statement(p);
		if (cc->opts != NULL)
			ops->free_opts(cc);
		free(cc->target);
		free(cc);
		return -1;
	}
	TAILQ_INSERT_TAIL(&sys->checks, cc, entry);
	sys->nchecks++;
	return 0;
}

static void
conf_parse_after(struct conf_parser *p, const char *what, const char *one,
    const char *many, int *out)
{
	long long	 n;

	if (conf_expect_word(p, "after") == -1 ||
	    conf_next_number(p, what, 1, 100, &n) == -1) {
		conf_skip_statement(p);
		return;
	}
	*out = (int)n;
	conf_next(p);
	if (p->tok == TOK_WORD && (strcmp(p->text, one) == 0 ||
	    strcmp(p->text, many) == 0))
		conf_end_statement(p);
	else {
		conf_pushback(p);
		conf_end_statement(p);
	}
}

/* One statement inside system "NAME" { ... }; the keyword is current. */
static void
conf_parse_system_stmt(struct conf_parser *p, struct system_conf *sys)
{
	char	*kw = xstrdup(p->text);
	int	 v;

	if (strcmp(kw, "core") == 0) {
		if (conf_next_yesno(p, "core", &v) == 0) {
			if (sys->core != -1)
				conf_error(p, "core set twice");
			sys->core = v;
			conf_end_statement(p);
		} else {
			sys->core = 0;	/* reported; no "missing" too */
			conf_skip_statement(p);
		}
	} else if (strcmp(kw, "critical-infrastructure") == 0) {
		if (conf_next_yesno(p, "critical-infrastructure", &v) == 0) {
			if (sys->critical_infrastructure != -1)
				conf_error(p, "critical-infrastructure set "
				    "twice");
			sys->critical_infrastructure = v;
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(kw, "rto") == 0) {
		int64_t rto;

		if (conf_next_duration(p, "rto", 1000, 365 * 86400000LL,
		    &rto) == 0) {
			if (sys->rto_ms != 0)
				conf_error(p, "rto set twice");
			sys->rto_ms = rto;
			conf_end_statement(p);
		} else {
			sys->rto_ms = -1;	/* reported already */
			conf_skip_statement(p);
		}
	} else if (strcmp(kw, "owner") == 0) {
		char *owner;

		if (conf_next_string(p, "owner", &owner) == 0) {
			free(sys->owner);
			sys->owner = owner;
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(kw, "depends") == 0) {
		char *parent;

		if (conf_next_string(p, "system name after \"depends\"",
		    &parent) == 0) {
			sys->depends = xrealloc(sys->depends,
			    (sys->ndepends + 1) * sizeof(char *));
			sys->depends_line = xrealloc(sys->depends_line,
			    (sys->ndepends + 1) * sizeof(int));
			sys->depends[sys->ndepends] = parent;
			sys->depends_line[sys->ndepends++] = p->tokline;
			conf_end_statement(p);
		} else
			conf_skip_statement(p);
	} else if (strcmp(kw, "check") == 0) {
		if (conf_parse_check(p, sys) == -1)
			sys->bad_checks++;
	}
	else if (strcmp(kw, "down") == 0)
		conf_parse_after(p, "down after", "failure", "failures",
		    &sys->down_after);
	else if (strcmp(kw, "up") == 0)
		conf_parse_after(p, "up after", "success", "successes",
		    &sys->up_after);
	else {
		conf_error(p, "unknown keyword \"%s\" in system \"%s\"", kw,
		    sys->name);
		conf_skip_statement(p);
	}
	free(kw);
}

/*
 * The braces of a block (system, policy) and the statements in them; WHAT
 * names the block in messages, LINE is where it began.  Each statement's
 * first word is current when STMT is called.
 */
static void
conf_parse_block(struct conf_parser *p, const char *what, int line,
    void (*stmt)(struct conf_parser *, void *), void *arg)
{
	do {
		conf_next(p);
	} while (p->tok == TOK_EOL);
	if (p->tok != TOK_LBRACE) {
		conf_error(p, "expected '{' after %s", what);
		conf_skip_statement(p);
		return;
	}
	for (;;) {
		conf_next(p);
		switch (p->tok) {
		case TOK_EOL:
			continue;
		case TOK_RBRACE:
			conf_end_statement(p);
			return;
		case TOK_EOF:
			conf_error_at(p->errs, p->file, line, "%s: missing '}'",
			    what);
			return;
		case TOK_WORD:
			stmt(p, arg);
			break;
		default:
			conf_error(p, "unexpected \"%s\" in %s",
			    conf_tok_desc(p), what);
			conf_skip_statement(p);
			break;
		}
	}
}

static void
conf_parse_system_stmt_cb(struct conf_parser *p, void *sys)
{
	conf_parse_system_stmt(p, sys);
}

static void
conf_parse_system(struct conf_parser *p)
{
	struct system_conf	*sys;
	char			*what;

	sys = xcalloc(1, sizeof(*sys));
	sys->file = p->file;
	sys->line = p->tokline;
	sys->core = -1;
	sys->critical_infrastructure = -1;
	sys->down_after = CONF_DEFAULT_DOWN_AFTER;
	sys->up_after = CONF_DEFAULT_UP_AFTER;
	TAILQ_INIT(&sys->checks);
	TAILQ_INSERT_TAIL(&p->conf->systems, sys, entry);
	p->conf->nsystems++;

	if (conf_next_string(p, "system name", &sys->name) == -1) {
		sys->name = xstrdup("");
		conf_skip_statement(p);
		return;
	}
	if (sys->name[0] == '\0')
		conf_error(p, "empty system name");
	xasprintf(&what, "system \"%s\"", sys->name);
	conf_parse_block(p, what, sys->line, conf_parse_system_stmt_cb, sys);
	free(what);
}


/*
 * A period of the procedure: a duration ("1h", "36h") or a number of
 * calendar months or years ("1 month", "3 years").
 */
static int
conf_next_period(struct conf_parser *p, const char *what,
    struct policy_period *out)
{
	long long	 n;
	char		*end;

	conf_next(p);
	if (p->tok != TOK_WORD) {
		if (p->tok != TOK_ERROR)
			conf_error(p, "missing %s", what);
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	if (conf_parse_duration(p->text, &out->ms) == 0) {
		if (out->ms <= 0) {
			conf_error(p, "%s must be longer than 0", what);
			return -1;
		}
		return 0;
	}
	n = strtoll(p->text, &end, 10);
	if (!isdigit((unsigned char)p->text[0]) || *end != '\0' || n < 1 ||
	    n > 1200) {
		conf_error(p, "%s: \"%s\" is not a duration, or a number of "
		    "months or years", what, p->text);
		return -1;
	}
	conf_next(p);
	if (p->tok == TOK_WORD && (strcmp(p->text, "month") == 0 ||
	    strcmp(p->text, "months") == 0))
		out->months = (int)n;
	else if (p->tok == TOK_WORD && (strcmp(p->text, "year") == 0 ||
	    strcmp(p->text, "years") == 0))
		out->months = (int)n * 12;
	else {
		conf_error(p, "%s: expected \"months\" or \"years\" after %lld",
		    what, n);
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	return 0;
}

/* "for levels 1-2", "for level 3"; without it, every level. */
static int
conf_parse_levels(struct conf_parser *p, int levels[POLICY_LEVELS + 1])
{
	int	 lo, hi, i, n = 0;
	char	 dash;

	conf_next(p);
	if (conf_at_end(p)) {
		conf_pushback(p);
		for (i = 1; i <= POLICY_LEVELS; i++)
			levels[i] = 1;
		return 0;
	}
	if (p->tok != TOK_WORD || strcmp(p->text, "for") != 0) {
		conf_error(p, "expected \"for levels N-M\", found \"%s\"",
		    conf_tok_desc(p));
		return -1;
	}
	conf_next(p);
	if (p->tok != TOK_WORD || (strcmp(p->text, "levels") != 0 &&
	    strcmp(p->text, "level") != 0)) {
		conf_error(p, "expected \"levels\" after \"for\"");
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	conf_next(p);
	if (p->tok == TOK_WORD) {
		if (sscanf(p->text, "%d%c%d%n", &lo, &dash, &hi, &n) == 3 &&
		    dash == '-' && p->text[n] == '\0')
			;
		else if (sscanf(p->text, "%d%n", &lo, &n) == 1 &&
		    p->text[n] == '\0')
			hi = lo;
		else
			lo = hi = 0;
	} else
		lo = hi = 0;
	if (lo < 1 || hi > POLICY_LEVELS || lo > hi) {
		conf_error(p, "levels must be 1-4 or a range such as 3-4, not "
		    "\"%s\"", conf_tok_desc(p));
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	for (i = 1; i <= POLICY_LEVELS; i++)
		levels[i] = i >= lo && i <= hi;
	return 0;
}

static int
conf_clock_by_name(const char *name)
{
	int	 c;

	for (c = 0; c < CLOCK_MAX; c++)
		if (strcmp(policy_clock_name(c), name) == 0)
			return c;
	return -1;
}

/* "notify within 1h", "restore within 36h for levels 3-4", ... */
static void
conf_parse_clock(struct conf_parser *p, struct policy *pol, int clock)
{
	struct policy_period	 len;
	int			 levels[POLICY_LEVELS + 1], i;

	if (conf_expect_word(p, "within") == -1 ||
	    conf_next_period(p, policy_clock_name(clock), &len) == -1 ||
	    conf_parse_levels(p, levels) == -1) {
		conf_skip_statement(p);
		return;
	}
	for (i = 1; i <= POLICY_LEVELS; i++) {
		if (!levels[i])
			continue;
		if (pol->applies[clock][i])
			conf_error(p, "%s clock for level %d set twice",
			    policy_clock_name(clock), i);
		pol->applies[clock][i] = 1;
		pol->length[clock][i] = len;
	}
	conf_end_statement(p);
}

/* "remind notify 30m 10m before" */
static void
conf_parse_remind(struct conf_parser *p, struct policy *pol)
{
	int64_t	 off;
	char	*name;
	int	 clock, i, j;

	if (conf_next_string(p, "clock after \"remind\"", &name) == -1) {
		conf_skip_statement(p);
		return;
	}
	clock = conf_clock_by_name(name);
	free(name);
	if (clock == -1) {
		conf_error(p, "unknown clock \"%s\" (notify, restore or "
		    "report)", p->text);
		conf_skip_statement(p);
		return;
	}
	pol->nremind[clock] = 0;
	for (;;) {
		conf_next(p);
		if (conf_at_end(p) || (p->tok == TOK_WORD &&
		    strcmp(p->text, "before") == 0)) {
			if (!conf_at_end(p))
				conf_end_statement(p);
			else
				conf_pushback(p);
			break;
		}
		conf_pushback(p);
		if (conf_next_duration(p, "reminder", 1000, 365 * 86400000LL,
		    &off) == -1) {
			conf_skip_statement(p);
			return;
		}
		if (pol->nremind[clock] == POLICY_MAX_REMINDERS) {
			conf_error(p, "at most %d reminders per clock",
			    POLICY_MAX_REMINDERS);
			conf_skip_statement(p);
			return;
		}
		/* Keep them largest first: the order they fire in. */
		for (i = 0; i < pol->nremind[clock] &&
		    pol->remind[clock][i] > off; i++)
			;
		if (i < pol->nremind[clock] && pol->remind[clock][i] == off) {
			conf_error(p, "reminder %s given twice", p->text);
			continue;
		}
		for (j = pol->nremind[clock]; j > i; j--)
			pol->remind[clock][j] = pol->remind[clock][j - 1];
		pol->remind[clock][i] = off;
		pol->nremind[clock]++;
	}
}

/* "tell "unit-head" "ciso" for levels 3-4" */
static void
conf_parse_tell(struct conf_parser *p, struct policy *pol)
{
	int	 levels[POLICY_LEVELS + 1], who[POLICY_MAX_RECIPIENTS];
	int	 n = 0, i, r;

	for (;;) {
		conf_next(p);
		if (p->tok != TOK_STRING)
			break;
		for (r = 0; r < pol->nrecipients; r++)
			if (strcmp(pol->recipients[r], p->text) == 0)
				break;
		if (r == pol->nrecipients) {
			if (r == POLICY_MAX_RECIPIENTS) {
				conf_error(p, "at most %d recipients",
				    POLICY_MAX_RECIPIENTS);
				conf_skip_statement(p);
				return;
			}
			p->conf->tell_file[r] = p->file;
			p->conf->tell_line[r] = p->tokline;
			pol->recipients[pol->nrecipients++] =
			    xstrdup(p->text);
		}
		if (n < POLICY_MAX_RECIPIENTS)
			who[n++] = r;
	}
	conf_pushback(p);
	if (n == 0) {
		conf_error(p, "\"tell\" needs at least one quoted recipient");
		conf_skip_statement(p);
		return;
	}
	if (conf_parse_levels(p, levels) == -1) {
		conf_skip_statement(p);
		return;
	}
	for (i = 1; i <= POLICY_LEVELS; i++)
		if (levels[i])
			for (r = 0; r < n; r++)
				pol->tell[i] |= 1U << who[r];
	conf_end_statement(p);
}

static void
conf_parse_policy_stmt(struct conf_parser *p, struct policy *pol)
{
	char	*kw = xstrdup(p->text);
	int	 clock;

	if ((clock = conf_clock_by_name(kw)) != -1)
		conf_parse_clock(p, pol, clock);
	else if (strcmp(kw, "remind") == 0)
		conf_parse_remind(p, pol);
	else if (strcmp(kw, "tell") == 0)
		conf_parse_tell(p, pol);
	else if (strcmp(kw, "lost-network") == 0) {
		long long	 pct;
		char		*end;

		/* "lost-network above 50%" */
		if (conf_expect_word(p, "above") == 0) {
			conf_next(p);
			pct = p->tok == TOK_WORD ? strtoll(p->text, &end, 10) :
			    0;
			if (p->tok != TOK_WORD || !isdigit((unsigned char)
			    p->text[0]) || strcmp(end, "%") != 0 || pct < 1 ||
			    pct > 100) {
				conf_error(p, "lost-network: expected a share "
				    "such as 50%%");
				conf_skip_statement(p);
			} else {
				pol->lost_network_pct = (int)pct;
				conf_end_statement(p);
			}
		} else
			conf_skip_statement(p);
	} else if (strcmp(kw, "reopen") == 0) {
		if (conf_expect_word(p, "within") == 0 &&
		    conf_next_duration(p, "reopen", 0, 7 * 86400000LL,
		    &pol->reopen_ms) == 0)
			conf_end_statement(p);
		else
			conf_skip_statement(p);
	} else if (strcmp(kw, "retention") == 0) {
		if (conf_next_period(p, "retention", &pol->retention) == 0)
			conf_end_statement(p);
		else
			conf_skip_statement(p);
	} else {
		conf_error(p, "unknown keyword \"%s\" in policy", kw);
		conf_skip_statement(p);
	}
	free(kw);
}

static void
conf_parse_policy_stmt_cb(struct conf_parser *p, void *pol)
{
	conf_parse_policy_stmt(p, pol);
}

/* policy { ... }: the procedure's numbers (rules/policy.conf). */
static void
conf_parse_policy(struct conf_parser *p)
{
	struct conf	*conf = p->conf;
	int		 line = p->tokline;

	if (conf->policy_file != NULL)
		conf_error(p, "policy already defined at %s:%d",
		    conf->policy_file, conf->policy_line);
	else {
		conf->policy_file = p->file;
		conf->policy_line = line;
	}
	conf_parse_block(p, "policy", line, conf_parse_policy_stmt_cb,
	    &conf->policy);
}

/*
 * An address as SMTP takes it in MAIL FROM and RCPT TO: local@domain in
 * printable ASCII, without the characters that would end or break the
 * command.
 */
static int
conf_valid_email(const char *s)
{
	const char	*at = strchr(s, '@'), *c;

	if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@'))
		return 0;
	for (c = s; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c) || strchr("<>()[],;:\\\"",
		    *c) != NULL)
			return 0;
	return 1;
}

/* "smtp://HOST[:PORT]" or "smtps://...", nothing after the authority. */
static int
conf_valid_smtp_url(const char *url)
{
	const char	*h;
	size_t		 n;

	if (strncmp(url, "smtp://", 7) == 0)
		h = url + 7;
	else if (strncmp(url, "smtps://", 8) == 0)
		h = url + 8;
	else
		return 0;
	n = strcspn(h, "/?#@");
	if (n == 0 || (h[n] != '\0' && strcmp(h + n, "/") != 0))
		return 0;
	for (; *h != '\0'; h++)
		if (!isgraph((unsigned char)*h))
			return 0;
	return 1;
}

/* conf_open_regular's errno for a file that is not a regular one. */
#define EFTYPE_CONF	EINVAL

/*
 * PATH opened for reading if it is a regular file, with its stat in ST;
 * NULL with errno set otherwise (EFTYPE_CONF: not a regular file).  The
 * open does not wait: without O_NONBLOCK, a FIFO would block until a
 * writer came (for -n, for ever; on a reload, the daemon's loop).
 */
static FILE *
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
 * The SMTP account, from a file holding "user:password" on its first
 * line.  It must be the daemon's secret: a file that its group or others
 * may read or write is refused, as ssh refuses a readable private key.
 */
static void
conf_read_credentials(struct conf_parser *p, const char *path)
{
	struct mail_conf	*m = &p->conf->mail;
	struct stat		 st;
	char			 buf[1024], *colon;
	FILE			*fp;
	size_t			 n;

	if ((fp = conf_open_regular(path, &st)) == NULL) {
		conf_error(p, "smtp-credentials \"%s\": %s", path,
		    errno == EFTYPE_CONF ? "not a regular file" :
		    strerror(errno));
		return;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		conf_error(p, "smtp-credentials \"%s\": mode %04o lets group "
		    "or others read it; make it readable by the daemon's "
		    "user only (chmod 600)", path,
		    (unsigned)(st.st_mode & 07777));
		fclose(fp);
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if ((colon = strchr(buf, ':')) == NULL || colon == buf) {
		conf_error(p, "smtp-credentials \"%s\": expected "
		    "\"user:password\" on its first line", path);
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	*colon = '\0';
	free(m->user);
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	m->user = xstrdup(buf);
	m->password = xstrdup(colon + 1);
	explicit_bzero(buf, sizeof(buf));
}

/* The mail settings of "set"; returns 0 when NAME is none of them. */
static int
conf_parse_set_mail(struct conf_parser *p, const char *name)
{
	struct mail_conf	*m = &p->conf->mail;
	char			*value = NULL;
	int			 ok = -1;

	if (strcmp(name, "smtp") == 0) {
		if (conf_next_string(p, "SMTP server URL", &value) == 0) {
			if (!conf_valid_smtp_url(value))
				conf_error(p, "smtp \"%s\": expected "
				    "smtp://HOST:PORT or smtps://HOST:PORT",
				    value);
			free(m->smtp);
			m->smtp = value;
			m->file = p->file;
			m->line = p->tokline;
			ok = 0;
		}
	} else if (strcmp(name, "mail-from") == 0) {
		if (conf_next_string(p, "sender address", &value) == 0) {
			if (!conf_valid_email(value))
				conf_error(p, "mail-from \"%s\": not an email "
				    "address", value);
			free(m->from);
			m->from = value;
			ok = 0;
		}
	} else if (strcmp(name, "smtp-starttls") == 0) {
		int	 yes;

		if (conf_next_yesno(p, "smtp-starttls", &yes) == 0) {
			m->starttls = yes ? CONF_STARTTLS_YES :
			    CONF_STARTTLS_NO;
			m->set_starttls = 1;
			ok = 0;
		}
	} else if (strcmp(name, "smtp-credentials") == 0) {
		if (conf_next_string(p, "credentials file", &value) == 0) {
			free(m->credentials);
			m->credentials = conf_path(p, value);
			conf_read_credentials(p, m->credentials);
			ok = 0;
		}
	} else if (strcmp(name, "smtp-ca-file") == 0) {
		if (conf_next_string(p, "CA file", &value) == 0) {
			free(m->ca_file);
			m->ca_file = conf_path(p, value);
			if (access(m->ca_file, R_OK) == -1)
				conf_error(p, "smtp-ca-file \"%s\": %s",
				    m->ca_file, strerror(errno));
			ok = 0;
		}
	} else if (strcmp(name, "mail-alert-after") == 0) {
		if (conf_next_duration(p, "mail-alert-after", 1000,
		    7 * 86400000LL, &m->alert_after_ms) == 0)
			ok = 0;
	} else if (strcmp(name, "mail-timeout") == 0) {
		/* One message, from connecting to the answer to QUIT. */
		if (conf_next_duration(p, "mail-timeout", 1000, 3600000LL,
		    &m->timeout_ms) == 0)
			ok = 0;
	} else if (strcmp(name, "mail-retry") == 0) {
		/* "set mail-retry 5s 10m": the first wait, the longest. */
		if (conf_next_duration(p, "mail-retry first wait", 100,
		    86400000LL, &m->retry_ms) == 0 &&
		    conf_next_duration(p, "mail-retry longest wait", 100,
		    86400000LL, &m->retry_max_ms) == 0) {
			if (m->retry_max_ms < m->retry_ms)
				conf_error(p, "mail-retry: the longest wait is "
				    "shorter than the first");
			ok = 0;
		}
	} else
		return 0;
	if (value != NULL && m->smtp != value && m->from != value)
		free(value);
	if (ok == 0)
		conf_end_statement(p);
	else
		conf_skip_statement(p);
	return 1;
}

/*
 * "set resolver ADDRESS[:PORT]" (up to three, asked in turn) and "set
 * dns-ttl MIN MAX": how the probes' host names are resolved and how long
 * an answer is kept.  Returns 0 when NAME is neither.
 */
static int
conf_parse_set_dns(struct conf_parser *p, const char *name)
{
	struct sockaddr_storage	 ss;
	struct conf		*conf = p->conf;
	char			*value;
	int			 len, ok = -1;

	if (strcmp(name, "resolver") == 0) {
		if (conf_next_string(p, "resolver address", &value) == 0) {
			len = (int)sizeof(ss);
			if (evutil_parse_sockaddr_port(value,
			    (struct sockaddr *)&ss, &len) == -1)
				conf_error(p, "resolver \"%s\": not an address "
				    "or address:port", value);
			else if (conf->nresolvers == CONF_MAX_RESOLVERS)
				conf_error(p, "resolver \"%s\": at most %d "
				    "resolvers", value, CONF_MAX_RESOLVERS);
			else {
				conf->resolvers[conf->nresolvers++] = value;
				value = NULL;
			}
			free(value);
			ok = 0;
		}
	} else if (strcmp(name, "dns-ttl") == 0) {
		/* "set dns-ttl 5s 1h": the shortest time kept, the longest. */
		if (conf_next_duration(p, "dns-ttl shortest", 0, 86400000LL,
		    &conf->dns_ttl_min_ms) == 0 &&
		    conf_next_duration(p, "dns-ttl longest", 0, 86400000LL,
		    &conf->dns_ttl_max_ms) == 0) {
			if (conf->dns_ttl_max_ms < conf->dns_ttl_min_ms)
				conf_error(p, "dns-ttl: the longest time is "
				    "shorter than the shortest");
			ok = 0;
		}
	} else
		return 0;
	if (ok == 0)
		conf_end_statement(p);
	else
		conf_skip_statement(p);
	return 1;
}

static void
conf_parse_contact_stmt(struct conf_parser *p, void *arg)
{
	struct contact_conf	*c = arg;
	char			*kw = xstrdup(p->text), **slot, *value;

	if (strcmp(kw, "email") == 0)
		slot = &c->email;
	else if (strcmp(kw, "phone") == 0)
		slot = &c->phone;
	else if (strcmp(kw, "name") == 0)
		slot = &c->person;
	else {
		conf_error(p, "unknown keyword \"%s\" in contact", kw);
		conf_skip_statement(p);
		free(kw);
		return;
	}
	if (conf_next_string(p, kw, &value) == -1) {
		conf_skip_statement(p);
		free(kw);
		return;
	}
	if (*slot != NULL)
		conf_error(p, "contact \"%s\": %s given twice", c->name, kw);
	else if (slot == &c->email && !conf_valid_email(value))
		conf_error(p, "contact \"%s\": \"%s\" is not an email "
		    "address", c->name, value);
	free(*slot);
	*slot = value;
	conf_end_statement(p);
	free(kw);
}

/* contact "NAME" { email "ADDR"; phone "..."; name "..." } */
static void
conf_parse_contact(struct conf_parser *p)
{
	struct contact_conf	*c;
	char			*what;

	c = xcalloc(1, sizeof(*c));
	c->file = p->file;
	c->line = p->tokline;
	TAILQ_INSERT_TAIL(&p->conf->contacts, c, entry);
	if (conf_next_string(p, "contact name", &c->name) == -1) {
		c->name = xstrdup("");
		conf_skip_statement(p);
		return;
	}
	xasprintf(&what, "contact \"%s\"", c->name);
	conf_parse_block(p, what, c->line, conf_parse_contact_stmt, c);
	free(what);
}

/*
 * With a mail server, every recipient the policy tells must be a
 * contact with an address, or its notifications could never go out.
 */
static void
conf_check_mail(struct conf *conf, struct conf_errors *errs)
{
	const struct policy	*pol = &conf->policy;
	struct mail_conf	*m = &conf->mail;
	struct contact_conf	*c, *other;
	int			 r;

	TAILQ_FOREACH(c, &conf->contacts, entry) {
		TAILQ_FOREACH(other, &conf->contacts, entry) {
			if (other == c)
				break;
			if (strcmp(other->name, c->name) == 0) {
				conf_error_at(errs, c->file, c->line,
				    "duplicate contact \"%s\" (first defined "
				    "at %s:%d)", c->name, other->file,
				    other->line);
				break;
			}
		}
		if (c->email == NULL)
			conf_error_at(errs, c->file, c->line, "contact \"%s\": "
			    "missing email", c->name);
	}
	if (m->alert_after_ms == 0)
		m->alert_after_ms = CONF_DEFAULT_MAIL_ALERT_MS;
	if (m->retry_ms == 0) {
		m->retry_ms = CONF_DEFAULT_MAIL_RETRY_MS;
		m->retry_max_ms = CONF_DEFAULT_MAIL_RETRY_MAX_MS;
	}
	if (m->timeout_ms == 0)
		m->timeout_ms = CONF_DEFAULT_MAIL_TIMEOUT_MS;
	/* Without a server, mail is off and the rest is kept for later. */
	if (m->smtp == NULL)
		return;
	if (m->from == NULL)
		conf_error_at(errs, m->file, m->line, "smtp: missing \"set "
		    "mail-from\" (the sender address)");
	if (m->set_starttls && strncmp(m->smtp, "smtps://", 8) == 0)
		conf_error_at(errs, m->file, m->line, "smtp-starttls is for "
		    "smtp:// servers; smtps:// is TLS from the start");
	for (r = 0; r < pol->nrecipients; r++) {
		c = conf_find_contact(conf, pol->recipients[r]);
		if (c == NULL || c->email == NULL)
			conf_error_at(errs, conf->tell_file[r],
			    conf->tell_line[r], "tell \"%s\": no contact "
			    "\"%s\" with an email address, and \"set smtp\" "
			    "mails every notification", pol->recipients[r],
			    pol->recipients[r]);
	}
}

/*
 * anomaly "NAME" interface "IFACE" [filter "BPF"] [window 1s] { ... }:
 * the traffic counters (anomaly_rules.h).
 */
static const struct {
	const char		*name;
	enum anomaly_unit	 unit;
} conf_anomaly_counters[ANOMALY_COUNTER_MAX] = {
	[ANOMALY_SYN_RATE] = { "syn-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_SYN_UNANSWERED] = { "syn-unanswered", ANOMALY_UNIT_SHARE },
	[ANOMALY_PACKET_RATE] = { "packet-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_BYTE_RATE] = { "byte-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_ICMP_RATE] = { "icmp-rate", ANOMALY_UNIT_RATE },
	[ANOMALY_UDP_AMP_RATE] = { "udp-amplification-rate",
	    ANOMALY_UNIT_RATE },
	[ANOMALY_PORTS_PER_SOURCE] = { "distinct-ports-per-source",
	    ANOMALY_UNIT_DISTINCT },
	[ANOMALY_HOSTS_PER_SOURCE] = { "distinct-hosts-per-source",
	    ANOMALY_UNIT_DISTINCT },
};

const char *
anomaly_counter_name(enum anomaly_counter c)
{
	return conf_anomaly_counters[c].name;
}

enum anomaly_unit
anomaly_counter_unit(enum anomaly_counter c)
{
	return conf_anomaly_counters[c].unit;
}

int
anomaly_counter_find(const char *name)
{
	int	 i;

	for (i = 0; i < ANOMALY_COUNTER_MAX; i++)
		if (strcmp(conf_anomaly_counters[i].name, name) == 0)
			return i;
	return -1;
}

/* "5000/s", "20k/s", "100M/s": a rate per second. */
static int
conf_anomaly_rate(const char *s, double *out)
{
	char	*end;
	double	 v;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	v = strtod(s, &end);
	if (*end == 'k')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	else if (*end == 'G')
		v *= 1e9, end++;
	if (strcmp(end, "/s") != 0 || !(v > 0) || v > 1e12)
		return -1;
	*out = v;
	return 0;
}

/* COUNTER above VALUE for|in DURATION; the counter's name is current. */
static void
conf_parse_anomaly_threshold(struct conf_parser *p, struct anomaly_conf *a,
    int c)
{
	struct anomaly_threshold	 th;
	enum anomaly_unit		 unit = anomaly_counter_unit(c);
	const char			*name = anomaly_counter_name(c);
	char				*end;
	long long			 n;

	memset(&th, 0, sizeof(th));
	th.line = p->tokline;
	if (conf_expect_word(p, "above") == -1)
		goto bad;
	conf_next(p);
	if (p->tok != TOK_WORD) {
		conf_error(p, "%s: missing the threshold after \"above\"",
		    name);
		if (conf_at_end(p))
			conf_pushback(p);
		goto bad;
	}
	if (unit == ANOMALY_UNIT_RATE) {
		if (conf_anomaly_rate(p->text, &th.above) == -1) {
			conf_error(p, "%s: \"%s\" is not a rate such as "
			    "5000/s or 20k/s", name, p->text);
			goto bad;
		}
	} else {
		n = strtoll(p->text, &end, 10);
		if (!isdigit((unsigned char)p->text[0]) || n < 1 ||
		    (unit == ANOMALY_UNIT_SHARE ? strcmp(end, "%") != 0 ||
		    n > 99 : *end != '\0' || n > 4096)) {
			conf_error(p, "%s: \"%s\" is not %s", name, p->text,
			    unit == ANOMALY_UNIT_SHARE ? "a share from 1% to "
			    "99%" : "a count from 1 to 4096");
			goto bad;
		}
		th.above = (double)n;
	}
	if (conf_expect_word(p, unit == ANOMALY_UNIT_DISTINCT ? "in" :
	    "for") == -1 ||
	    conf_next_duration(p, name, a->window_ms, 3600000, &th.ms) == -1)
		goto bad;
	if (a->th[c].set)
		conf_error(p, "%s given twice in anomaly \"%s\"", name,
		    a->name);
	th.set = 1;
	a->th[c] = th;
	conf_end_statement(p);
	return;
 bad:
	conf_skip_statement(p);
}

static void
conf_parse_anomaly_stmt(struct conf_parser *p, void *arg)
{
	struct anomaly_conf	*a = arg;
	struct in_addr		 in;
	char			*s = NULL;
	int			 c, errors = p->errs->count;

	if ((c = anomaly_counter_find(p->text)) != -1)
		conf_parse_anomaly_threshold(p, a, c);
	else if (strcmp(p->text, "arp-change") == 0) {
		if (conf_next_string(p, "IPv4 address after \"arp-change\"",
		    &s) == -1)
			conf_skip_statement(p);
		else if (inet_pton(AF_INET, s, &in) != 1)
			conf_error(p, "arp-change: \"%s\" is not an IPv4 "
			    "address", s);
		else if (a->narp == ANOMALY_MAX_ARP)
			conf_error(p, "arp-change: at most %d addresses",
			    ANOMALY_MAX_ARP);
		else
			a->arp_ip[a->narp++] = in.s_addr;
		if (s != NULL) {
			free(s);
			conf_end_statement(p);
		}
	} else if (strcmp(p->text, "end") == 0) {
		if (conf_expect_word(p, "after") == 0 &&
		    conf_next_duration(p, "end after", 1000, 86400000,
		    &a->end_ms) == 0)
			conf_end_statement(p);
		else
			conf_skip_statement(p);
	} else {
		conf_error(p, "unknown counter \"%s\" in anomaly \"%s\"",
		    p->text, a->name);
		conf_skip_statement(p);
	}
	if (p->errs->count > errors)
		a->bad_rules++;
}

/* Compiled now so that -n reports a bad filter at its line. */
static void
conf_anomaly_filter(struct conf_parser *p, const char *filter)
{
	struct bpf_program	 bpf;
	pcap_t			*dead;

	if ((dead = pcap_open_dead(DLT_EN10MB, 65535)) == NULL)
		return;
	if (pcap_compile(dead, &bpf, filter, 1, PCAP_NETMASK_UNKNOWN) == -1)
		conf_error(p, "filter \"%s\": %s", filter, pcap_geterr(dead));
	else
		pcap_freecode(&bpf);
	pcap_close(dead);
}

static void
conf_parse_anomaly(struct conf_parser *p)
{
	struct anomaly_conf	*a;
	char			*what;

	a = xcalloc(1, sizeof(*a));
	a->file = p->file;
	a->line = p->tokline;
	a->window_ms = ANOMALY_DEFAULT_WINDOW_MS;
	a->end_ms = ANOMALY_DEFAULT_END_MS;
	if (conf_next_string(p, "anomaly name", &a->name) == -1 ||
	    conf_expect_word(p, "interface") == -1 ||
	    conf_next_string(p, "interface name", &a->interface) == -1) {
		/* Not kept: its block, if any, is skipped as it comes. */
		conf_skip_statement(p);
		free(a->name);
		free(a->interface);
		free(a);
		return;
	}
	TAILQ_INSERT_TAIL(&p->conf->anomalies, a, entry);
	if (a->name[0] == '\0')
		conf_error(p, "empty anomaly name");
	for (;;) {
		conf_next(p);
		if (p->tok == TOK_WORD && strcmp(p->text, "filter") == 0) {
			free(a->filter);
			a->filter = NULL;
			if (conf_next_string(p, "BPF filter", &a->filter) == 0)
				conf_anomaly_filter(p, a->filter);
		} else if (p->tok == TOK_WORD &&
		    strcmp(p->text, "window") == 0)
			conf_next_duration(p, "window", 100, 60000,
			    &a->window_ms);
		else {
			conf_pushback(p);
			break;
		}
	}
	xasprintf(&what, "anomaly \"%s\"", a->name);
	conf_parse_block(p, what, a->line, conf_parse_anomaly_stmt, a);
	free(what);
}

/* Names are unique; each block counts something. */
static void
conf_check_anomalies(struct conf *conf, struct conf_errors *errs)
{
	const struct anomaly_conf	*a, *a2;
	int				 c;

	TAILQ_FOREACH(a, &conf->anomalies, entry) {
		for (a2 = TAILQ_FIRST(&conf->anomalies); a2 != a;
		    a2 = TAILQ_NEXT(a2, entry))
			if (strcmp(a->name, a2->name) == 0) {
				conf_error_at(errs, a->file, a->line,
				    "anomaly \"%s\" already defined at %s:%d",
				    a->name, a2->file, a2->line);
				break;
			}
		for (c = 0; c < ANOMALY_COUNTER_MAX; c++)
			if (a->th[c].set)
				break;
		if (c == ANOMALY_COUNTER_MAX && a->narp == 0 &&
		    a->bad_rules == 0)
			conf_error_at(errs, a->file, a->line, "anomaly \"%s\": "
			    "no counter", a->name);
		for (c = 0; c < ANOMALY_COUNTER_MAX; c++)
			if (a->th[c].set && a->th[c].ms % a->window_ms != 0)
				conf_error_at(errs, a->file, a->th[c].line,
				    "anomaly \"%s\": %s: the duration must be "
				    "a whole number of windows", a->name,
				    anomaly_counter_name(c));
	}
}

static void
conf_check_maints(struct conf *conf, struct conf_errors *errs)
{
	struct maint_conf	*m;

	TAILQ_FOREACH(m, &conf->maints, entry)
		if (conf_find_system(conf, m->system) == NULL)
			conf_error_at(errs, m->file, m->line, "maintenance of "
			    "unknown system \"%s\"", m->system);
}

/* The policy must cover what the procedure requires of every level. */
static void
conf_check_policy(struct conf *conf, struct conf_errors *errs)
{
	const struct policy	*pol = &conf->policy;
	const char		*f = conf->policy_file;
	int			 line = conf->policy_line, c, i;
	int64_t			 shortest, len;
	char			 a[32];

	if (f == NULL) {
		conf_error_at(errs, conf->path, 0, "no policy: include "
		    "\"policy.conf\" (the procedure's clocks and routing)");
		return;
	}
	for (i = 1; i <= POLICY_LEVELS; i++) {
		if (!pol->applies[CLOCK_NOTIFY][i])
			conf_error_at(errs, f, line, "policy: no notify clock "
			    "for level %d", i);
		if (!pol->applies[CLOCK_RESTORE][i])
			conf_error_at(errs, f, line, "policy: no restore "
			    "clock for level %d", i);
		if (pol->tell[i] == 0)
			conf_error_at(errs, f, line, "policy: nobody to tell "
			    "for level %d", i);
	}
	if (pol->retention.ms == 0 && pol->retention.months == 0)
		conf_error_at(errs, f, line, "policy: missing retention");
	for (c = 0; c < CLOCK_MAX; c++) {
		shortest = INT64_MAX;
		for (i = 1; i <= POLICY_LEVELS; i++) {
			if (!pol->applies[c][i])
				continue;
			/* A month is at least 28 days. */
			len = pol->length[c][i].ms +
			    (int64_t)pol->length[c][i].months * 28 * 86400000;
			if (len < shortest)
				shortest = len;
		}
		if (pol->nremind[c] > 0 && pol->remind[c][0] >= shortest)
			conf_error_at(errs, f, line, "policy: reminder %s "
			    "before the %s deadline is not shorter than the "
			    "clock", duration_fmt(pol->remind[c][0], a,
			    sizeof(a)), policy_clock_name(c));
	}
}

static void
conf_parse_statements(struct conf_parser *p)
{
	for (;;) {
		conf_next(p);
		switch (p->tok) {
		case TOK_EOF:
			return;
		case TOK_EOL:
			continue;
		case TOK_WORD:
			if (strcmp(p->text, "set") == 0)
				conf_parse_set(p);
			else if (strcmp(p->text, "include") == 0)
				conf_parse_include(p);
			else if (strcmp(p->text, "system") == 0)
				conf_parse_system(p);
			else if (strcmp(p->text, "policy") == 0)
				conf_parse_policy(p);
			else if (strcmp(p->text, "maintenance") == 0)
				conf_parse_maintenance(p);
			else if (strcmp(p->text, "role") == 0)
				conf_parse_role(p);
			else if (strcmp(p->text, "category") == 0)
				conf_parse_category(p);
			else if (strcmp(p->text, "contact") == 0)
				conf_parse_contact(p);
			else if (strcmp(p->text, "anomaly") == 0)
				conf_parse_anomaly(p);
			else {
				conf_error(p, "unknown keyword \"%s\"",
				    p->text);
				conf_skip_statement(p);
			}
			break;
		case TOK_RBRACE:
			conf_error(p, "unexpected '}'");
			break;
		default:
			conf_error(p, "unexpected \"%s\"", conf_tok_desc(p));
			conf_skip_statement(p);
			break;
		}
	}
}

static void
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
static void
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

/*
 * Does following "depends" from SYS come back to START?  DEPTH bounds the
 * walk through a cycle further up, which its own members report.
 */
static int
conf_depends_reaches(const struct conf *conf, const struct system_conf *sys,
    const struct system_conf *start, int depth)
{
	const struct system_conf	*parent;
	int				 i;

	if (depth > conf->nsystems)
		return 0;
	for (i = 0; i < sys->ndepends; i++) {
		if ((parent = conf_find_system(conf, sys->depends[i])) == NULL)
			continue;
		if (parent == start ||
		    conf_depends_reaches(conf, parent, start, depth + 1))
			return 1;
	}
	return 0;
}

static int
conf_depends_self(const struct system_conf *sys)
{
	int	 i;

	for (i = 0; i < sys->ndepends; i++)
		if (strcmp(sys->depends[i], sys->name) == 0)
			return 1;
	return 0;
}

/* The second pass: what needs the whole file to judge. */
static void
conf_check(struct conf *conf, struct conf_errors *errs)
{
	struct system_conf	*sys, *other;
	struct check_conf	*cc;
	char			 a[32], b[32];
	int			 i;

	TAILQ_FOREACH(sys, &conf->systems, entry) {
		TAILQ_FOREACH(other, &conf->systems, entry) {
			if (other == sys)
				break;
			if (strcmp(other->name, sys->name) == 0) {
				conf_error_at(errs, sys->file, sys->line,
				    "duplicate system \"%s\" (first defined "
				    "at %s:%d)", sys->name, other->file,
				    other->line);
				break;
			}
		}
		for (i = 0; i < sys->ndepends; i++) {
			if (strcmp(sys->depends[i], sys->name) == 0)
				conf_error_at(errs, sys->file,
				    sys->depends_line[i], "system \"%s\" "
				    "depends on itself", sys->name);
			else if (conf_find_system(conf, sys->depends[i]) ==
			    NULL)
				conf_error_at(errs, sys->file,
				    sys->depends_line[i], "system \"%s\" "
				    "depends on unknown system \"%s\"",
				    sys->name, sys->depends[i]);
		}
		if (sys->ndepends > 0 &&
		    conf_depends_reaches(conf, sys, sys, 0) &&
		    !conf_depends_self(sys))
			conf_error_at(errs, sys->file, sys->depends_line[0],
			    "system \"%s\": its dependencies form a cycle",
			    sys->name);
		if (sys->rto_ms == 0)
			conf_error_at(errs, sys->file, sys->line,
			    "system \"%s\": missing rto (its recovery time "
			    "objective decides general or major)", sys->name);
		if (sys->core == -1)
			conf_error_at(errs, sys->file, sys->line,
			    "system \"%s\": missing \"core yes|no\" (it "
			    "decides the level, 5.3.2)", sys->name);
		if (sys->critical_infrastructure == -1)
			sys->critical_infrastructure = 0;
		if (sys->nchecks == 0 && sys->bad_checks == 0)
			conf_error_at(errs, sys->file, sys->line,
			    "system \"%s\": no check", sys->name);
		TAILQ_FOREACH(cc, &sys->checks, entry) {
			/* An unset timeout shrinks to fit a short interval. */
			if (!cc->set_timeout &&
			    cc->timeout_ms >= cc->every_ms)
				cc->timeout_ms = cc->every_ms / 2;
			if (cc->timeout_ms >= cc->every_ms)
				conf_error_at(errs, cc->file, cc->line,
				    "timeout %s must be below the interval "
				    "%s", duration_fmt(cc->timeout_ms, a,
				    sizeof(a)), duration_fmt(cc->every_ms, b,
				    sizeof(b)));
		}
	}
}

static struct conf *
conf_new(const char *path)
{
	struct conf	*conf;

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	TAILQ_INIT(&conf->systems);
	TAILQ_INIT(&conf->maints);
	TAILQ_INIT(&conf->roles);
	TAILQ_INIT(&conf->categories);
	TAILQ_INIT(&conf->contacts);
	TAILQ_INIT(&conf->anomalies);
	conf->dns_ttl_min_ms = CONF_DEFAULT_DNS_TTL_MIN_MS;
	conf->dns_ttl_max_ms = CONF_DEFAULT_DNS_TTL_MAX_MS;
	conf->store_alert_after_ms = CONF_DEFAULT_STORE_ALERT_MS;
	return conf;
}

/* A group given two roles, a category code given twice. */
static void
conf_check_lists(struct conf *conf, struct conf_errors *errs)
{
	const struct role_conf		*r, *r2;
	const struct category_conf	*c, *c2;

	TAILQ_FOREACH(r, &conf->roles, entry)
		for (r2 = TAILQ_FIRST(&conf->roles); r2 != r;
		    r2 = TAILQ_NEXT(r2, entry))
			if (strcmp(r->group, r2->group) == 0) {
				conf_error_at(errs, r->file, r->line,
				    "group \"%s\" already has a role at "
				    "%s:%d", r->group, r2->file, r2->line);
				break;
			}
	TAILQ_FOREACH(c, &conf->categories, entry)
		for (c2 = TAILQ_FIRST(&conf->categories); c2 != c;
		    c2 = TAILQ_NEXT(c2, entry))
			if (strcmp(c->code, c2->code) == 0) {
				conf_error_at(errs, c->file, c->line,
				    "category \"%s\" already defined at "
				    "%s:%d", c->code, c2->file, c2->line);
				break;
			}
}

static struct conf *
conf_finish(struct conf *conf, struct conf_errors *errs)
{
	/*
	 * Semantic errors are reported even after syntax errors, but not
	 * when the file itself could not be read.
	 */
	if (conf->nfiles > 0) {
		conf_check(conf, errs);
		conf_check_maints(conf, errs);
		conf_check_policy(conf, errs);
		conf_check_lists(conf, errs);
		conf_check_mail(conf, errs);
		conf_check_anomalies(conf, errs);
	}
	if (conf->database == NULL)
		conf->database = xstrdup(CONF_DEFAULT_DATABASE);
	if (conf->timezone == NULL)
		conf->timezone = xstrdup(CONF_DEFAULT_TIMEZONE);
	if (conf->socket == NULL)
		conf->socket = xstrdup(CONF_DEFAULT_SOCKET);
	if (errs->count > 0) {
		conf_free(conf);
		return NULL;
	}
	return conf;
}

struct conf *
conf_load(const char *path, struct conf_errors *errs)
{
	struct conf	*conf;

	conf = conf_new(path);
	conf_parse_file(conf, errs, path, 0, NULL);
	return conf_finish(conf, errs);
}

/* Parse rules held in memory (tests, fuzzing); NAME stands for the file. */
struct conf *
conf_parse_buffer(const char *name, const char *buf, size_t len,
    struct conf_errors *errs)
{
	struct conf_parser	 p;
	struct conf		*conf;

	conf = conf_new(name);
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	p.errs = errs;
	p.file = conf_intern_file(conf, name);
	p.dir = NULL;
	p.buf = buf;
	p.len = len;
	conf_parse_text(&p);
	return conf_finish(conf, errs);
}

struct contact_conf *
conf_find_contact(const struct conf *conf, const char *name)
{
	struct contact_conf	*c;

	TAILQ_FOREACH(c, &conf->contacts, entry)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct system_conf *
conf_find_system(const struct conf *conf, const char *name)
{
	struct system_conf	*sys;

	TAILQ_FOREACH(sys, &conf->systems, entry)
		if (strcmp(sys->name, name) == 0)
			return sys;
	return NULL;
}

const struct category_conf *
conf_find_category(const struct conf *conf, const char *code)
{
	const struct category_conf	*c;

	TAILQ_FOREACH(c, &conf->categories, entry)
		if (strcmp(c->code, code) == 0)
			return c;
	return NULL;
}

void
conf_free(struct conf *conf)
{
	struct anomaly_conf	*an;
	struct category_conf	*cat;
	struct contact_conf	*c;
	struct role_conf	*r;
	struct maint_conf	*m;
	struct system_conf	*sys;
	struct check_conf	*cc;
	int			 i;

	if (conf == NULL)
		return;
	while ((sys = TAILQ_FIRST(&conf->systems)) != NULL) {
		TAILQ_REMOVE(&conf->systems, sys, entry);
		while ((cc = TAILQ_FIRST(&sys->checks)) != NULL) {
			TAILQ_REMOVE(&sys->checks, cc, entry);
			if (cc->opts != NULL)
				cc->ops->free_opts(cc);
			free(cc->target);
			free(cc);
		}
		for (i = 0; i < sys->ndepends; i++)
			free(sys->depends[i]);
		free(sys->depends);
		free(sys->depends_line);
		free(sys->name);
		free(sys->owner);
		free(sys);
	}
	while ((m = TAILQ_FIRST(&conf->maints)) != NULL) {
		TAILQ_REMOVE(&conf->maints, m, entry);
		free(m->system);
		free(m);
	}
	while ((r = TAILQ_FIRST(&conf->roles)) != NULL) {
		TAILQ_REMOVE(&conf->roles, r, entry);
		free(r->group);
		free(r);
	}
	while ((cat = TAILQ_FIRST(&conf->categories)) != NULL) {
		TAILQ_REMOVE(&conf->categories, cat, entry);
		free(cat->code);
		free(cat->name_zh);
		free(cat->name_en);
		free(cat);
	}
	while ((c = TAILQ_FIRST(&conf->contacts)) != NULL) {
		TAILQ_REMOVE(&conf->contacts, c, entry);
		free(c->name);
		free(c->email);
		free(c->phone);
		free(c->person);
		free(c);
	}
	free(conf->mail.smtp);
	free(conf->mail.from);
	free(conf->mail.credentials);
	free(conf->mail.user);
	if (conf->mail.password != NULL)
		explicit_bzero(conf->mail.password,
		    strlen(conf->mail.password));
	free(conf->mail.password);
	free(conf->mail.ca_file);
	while ((an = TAILQ_FIRST(&conf->anomalies)) != NULL) {
		TAILQ_REMOVE(&conf->anomalies, an, entry);
		free(an->name);
		free(an->interface);
		free(an->filter);
		free(an);
	}
	for (i = 0; i < conf->nresolvers; i++)
		free(conf->resolvers[i]);
	free(conf->timezone);
	free(conf->socket);
	for (i = 0; i < conf->policy.nrecipients; i++)
		free(conf->policy.recipients[i]);
	for (i = 0; i < conf->nfiles; i++)
		free(conf->files[i]);
	free(conf->files);
	free(conf->database);
	free(conf->user);
	free(conf->group);
	free(conf->path);
	free(conf);
}
