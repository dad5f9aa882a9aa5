/*
 * conf_system.c: system blocks, the checks in them, and maintenance
 * windows.
 *
 *	system "NAME" {
 *		core yes|no; critical-infrastructure yes|no; rto 4h
 *		owner "..."; depends "OTHER"
 *		check KIND TARGET [every 30s] [timeout 5s] [options]
 *		down after 3 failures; up after 2 successes
 *	}
 *	maintenance "NAME" daily|weekly DAY|once WHEN for LENGTH
 *
 * The second pass checks what needs every system: duplicates,
 * dependencies (unknown ones, cycles), required settings.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_parse.h"
#include "probe.h"
#include "util.h"

/*
 * maintenance "SYSTEM" daily 02:00 for 2h
 * maintenance "SYSTEM" weekly sunday 02:00 for 2h
 * maintenance "SYSTEM" once 2026-12-01T02:00 for 4h
 */
int
conf_parse_maintenance(struct conf_parser *p, void *arg)
{
	struct maint_conf	*m;
	char			*word = NULL;
	int			 ok = 0;

	(void)arg;
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
		free(m->system);
		free(m);
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->conf->maints, m, entry);
	return 0;
}

/* check KIND TARGET [every 30s] [timeout 5s] [the kind's options] */
static int
conf_parse_check(struct conf_parser *p, struct system_conf *sys)
{
	struct check_conf	*cc;
	const struct probe_ops	*ops;
	char			*kind, desc[CONF_CHECK_DESC_MAX];
	int			 rc, failed = 0;

	if (conf_next_string(p, "check kind (tcp)", &kind) == -1)
		return -1;
	if ((ops = probe_find(kind)) == NULL) {
		conf_error(p, "unknown check kind \"%s\"", kind);
		free(kind);
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
		if (cc->opts != NULL)
			ops->free_opts(cc);
		free(cc->target);
		free(cc);
		return -1;
	}
	ops->describe(cc, desc, sizeof(desc));
	cc->desc = conf_strdup(p->conf, desc);
	TAILQ_INSERT_TAIL(&sys->checks, cc, entry);
	sys->nchecks++;
	return 0;
}

/* "down after 3 failures", "up after 2 successes" (the noun optional) */
static int
conf_parse_after(struct conf_parser *p, const char *what, const char *one,
    const char *many, int *out)
{
	long long	 n;

	if (conf_expect_word(p, "after") == -1 ||
	    conf_next_number(p, what, 1, 100, &n) == -1)
		return -1;
	*out = (int)n;
	conf_next(p);
	if (p->tok != TOK_WORD || (strcmp(p->text, one) != 0 &&
	    strcmp(p->text, many) != 0))
		conf_pushback(p);
	return conf_end_statement(p);
}

/* The statements of system "NAME" { ... }; ARG is the system_conf. */
static int
conf_system_core(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	int			 v;

	if (conf_next_yesno(p, "core", &v) == -1) {
		sys->core = 0;	/* reported; no "missing" too */
		return -1;
	}
	if (sys->core != -1)
		conf_error(p, "core set twice");
	sys->core = v;
	return conf_end_statement(p);
}

static int
conf_system_critical(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	int			 v;

	if (conf_next_yesno(p, "critical-infrastructure", &v) == -1)
		return -1;
	if (sys->critical_infrastructure != -1)
		conf_error(p, "critical-infrastructure set twice");
	sys->critical_infrastructure = v;
	return conf_end_statement(p);
}

static int
conf_system_rto(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	int64_t			 rto;

	if (conf_next_duration(p, "rto", 1000, 365 * 86400000LL,
	    &rto) == -1) {
		sys->rto_ms = -1;	/* reported already */
		return -1;
	}
	if (sys->rto_ms != 0)
		conf_error(p, "rto set twice");
	sys->rto_ms = rto;
	return conf_end_statement(p);
}

static int
conf_system_owner(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	char			*owner;

	if (conf_next_string(p, "owner", &owner) == -1)
		return -1;
	sys->owner = conf_intern(p->conf, owner);
	free(owner);
	return conf_end_statement(p);
}

static int
conf_system_depends(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	char			*parent;

	if (conf_next_string(p, "system name after \"depends\"",
	    &parent) == -1)
		return -1;
	sys->depends = xreallocarray(sys->depends, sys->ndepends + 1,
	    sizeof(char *));
	sys->depends_line = xreallocarray(sys->depends_line,
	    sys->ndepends + 1, sizeof(int));
	sys->depends[sys->ndepends] = conf_intern(p->conf, parent);
	sys->depends_line[sys->ndepends++] = p->tokline;
	free(parent);
	return conf_end_statement(p);
}

static int
conf_system_check(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;

	if (conf_parse_check(p, sys) == -1) {
		sys->bad_checks++;
		return -1;
	}
	return 0;
}

/*
 * "when N of M vantage points fail" (after "down"): how many of the nodes
 * sharing the register must see the system down before its outage
 * counts (engine_step_quorum).  Globally, or in a system block.
 */
static int
conf_parse_quorum(struct conf_parser *p, struct conf_quorum *q)
{
	long long	 need, of;

	if (q->need != 0)
		conf_error(p, "\"down when\" set twice");
	if (conf_next_number(p, "N in \"down when N of M vantage points "
	    "fail\"", 1, CONF_MAX_VANTAGE, &need) == -1 ||
	    conf_expect_word(p, "of") == -1 ||
	    conf_next_number(p, "M in \"down when N of M vantage points "
	    "fail\"", 1, CONF_MAX_VANTAGE, &of) == -1)
		return -1;
	if (need > of) {
		conf_error(p, "down when %lld of %lld: more must fail than "
		    "there are vantage points", need, of);
		return -1;
	}
	if (conf_expect_word(p, "vantage") == -1 ||
	    conf_expect_word(p, "points") == -1 ||
	    conf_expect_word(p, "fail") == -1)
		return -1;
	q->need = (int)need;
	q->of = (int)of;
	return conf_end_statement(p);
}

/* "down after N failures" or "down when N of M vantage points fail". */
static int
conf_parse_down(struct conf_parser *p, int *after, struct conf_quorum *q)
{
	conf_next(p);
	if (p->tok == TOK_WORD && strcmp(p->text, "when") == 0)
		return conf_parse_quorum(p, q);
	conf_pushback(p);
	if (after == NULL) {
		conf_error(p, "expected \"down when N of M vantage points "
		    "fail\" (\"down after\" belongs in a system block)");
		return -1;
	}
	return conf_parse_after(p, "down after", "failure", "failures",
	    after);
}

/* At the top level: every system's quorum, unless its own says. */
int
conf_parse_down_global(struct conf_parser *p, void *arg)
{
	(void)arg;
	return conf_parse_down(p, NULL, &p->conf->quorum);
}

static int
conf_system_down(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;

	return conf_parse_down(p, &sys->down_after, &sys->quorum);
}

static int
conf_system_up(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;

	return conf_parse_after(p, "up after", "success", "successes",
	    &sys->up_after);
}

/*
 * "vantage points "north" "south"": only these nodes probe the system's
 * checks (issue 21; the others skip them), and its quorum counts only
 * them.  Without it every node does.
 */
static int
conf_system_vantage(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys = arg;
	size_t			 i;

	if (conf_expect_word(p, "points") == -1)
		return -1;
	if (sys->nvantage > 0) {
		conf_error(p, "\"vantage points\" set twice (first at "
		    "%s:%d)", p->file, sys->vantage_line);
		return -1;
	}
	sys->vantage_line = p->tokline;
	for (;;) {
		conf_next(p);
		if (p->tok != TOK_STRING)
			break;
		for (i = 0; i < sys->nvantage; i++)
			if (strcmp(sys->vantage[i], p->text) == 0)
				break;
		if (i < sys->nvantage) {
			conf_error(p, "vantage point \"%s\" named twice",
			    p->text);
			continue;
		}
		if (sys->nvantage == CONF_MAX_VANTAGE) {
			conf_error(p, "more than %d vantage points",
			    CONF_MAX_VANTAGE);
			continue;
		}
		sys->vantage = xreallocarray(sys->vantage, sys->nvantage + 1,
		    sizeof(char *));
		sys->vantage[sys->nvantage++] = xstrdup(p->text);
	}
	if (sys->nvantage == 0) {
		conf_error(p, "expected the nodes' names after \"vantage "
		    "points\", such as \"vantage points \\\"north\\\" "
		    "\\\"south\\\"\"");
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	conf_pushback(p);
	return conf_end_statement(p);
}

static const struct conf_keyword conf_system_keywords[] = {
	{ "core",			conf_system_core },
	{ "critical-infrastructure",	conf_system_critical },
	{ "rto",			conf_system_rto },
	{ "owner",			conf_system_owner },
	{ "depends",			conf_system_depends },
	{ "check",			conf_system_check },
	{ "down",			conf_system_down },
	{ "up",				conf_system_up },
	{ "vantage",			conf_system_vantage },
	{ NULL,				NULL }
};

static int
conf_system_stmt(struct conf_parser *p, void *arg)
{
	const struct conf_keyword	*kw;
	struct system_conf		*sys = arg;

	if ((kw = conf_keyword_find(conf_system_keywords, p->text)) != NULL)
		return kw->parse(p, sys);
	conf_error(p, "unknown keyword \"%s\" in system \"%s\"", p->text,
	    sys->name);
	return -1;
}

int
conf_parse_system(struct conf_parser *p, void *arg)
{
	struct system_conf	*sys;
	char			*name, *what;
	int			 rc;

	(void)arg;
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

	if (conf_next_string(p, "system name", &name) == -1) {
		sys->name = conf_strdup(p->conf, "");
		return -1;
	}
	sys->name = conf_strdup(p->conf, name);
	free(name);
	if (sys->name[0] == '\0')
		conf_error(p, "empty system name");
	xasprintf(&what, "system \"%s\"", sys->name);
	rc = conf_parse_block(p, what, sys->line, conf_system_stmt, sys);
	free(what);
	return rc;
}

void
conf_check_maints(struct conf *conf, struct conf_errors *errs)
{
	struct maint_conf	*m;

	TAILQ_FOREACH(m, &conf->maints, entry)
		if (conf_find_system(conf, m->system) == NULL)
			conf_error_at(errs, m->file, m->line, "maintenance of "
			    "unknown system \"%s\"", m->system);
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
	size_t				 i;

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
	size_t	 i;

	for (i = 0; i < sys->ndepends; i++)
		if (strcmp(sys->depends[i], sys->name) == 0)
			return 1;
	return 0;
}

/* The second pass: what needs the whole file to judge. */
void
conf_check_systems(struct conf *conf, struct conf_errors *errs)
{
	struct system_conf	*sys, *other;
	struct check_conf	*cc;
	const struct conf_quorum *q;
	char			 a[32], b[32];
	size_t			 i;

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
		q = sys->quorum.need != 0 ? &sys->quorum : &conf->quorum;
		if (sys->nvantage > 0 && q->of > (int)sys->nvantage)
			conf_error_at(errs, sys->file, sys->vantage_line,
			    "system \"%s\": down when %d of %d vantage points "
			    "fail, but only %zu %s assigned to it", sys->name,
			    q->need, q->of, sys->nvantage, sys->nvantage == 1 ?
			    "is" : "are");
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
