/*
 * conf_policy.c: policy { ... }, the procedure's numbers
 * (rules/policy.conf): the clocks of each level, their reminders, whom
 * to tell, lost network, reopening and retention.  The second pass
 * checks that the policy covers every level.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_parse.h"
#include "util.h"

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

	if (conf_next_word(p, what) == -1)
		return -1;
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

/* "notify within 1h", "restore within 36h for levels 3-4", ... */
static int
conf_parse_clock(struct conf_parser *p, struct policy *pol,
    enum policy_clock clock)
{
	struct policy_period	 len;
	int			 levels[POLICY_LEVELS + 1], i;

	if (conf_expect_word(p, "within") == -1 ||
	    conf_next_period(p, policy_clock_name(clock), &len) == -1 ||
	    conf_parse_levels(p, levels) == -1)
		return -1;
	for (i = 1; i <= POLICY_LEVELS; i++) {
		if (!levels[i])
			continue;
		if (pol->applies[clock][i])
			conf_error(p, "%s clock for level %d set twice",
			    policy_clock_name(clock), i);
		pol->applies[clock][i] = 1;
		pol->length[clock][i] = len;
	}
	return conf_end_statement(p);
}

/* "remind notify 30m 10m before" */
static int
conf_parse_remind(struct conf_parser *p, void *arg)
{
	struct policy	*pol = arg;
	int64_t		 off;
	char		*name;
	enum policy_clock clock;
	int		 i, j, found;

	if (conf_next_string(p, "clock after \"remind\"", &name) == -1)
		return -1;
	found = policy_clock_find(name, &clock);
	free(name);
	if (found == -1) {
		conf_error(p, "unknown clock \"%s\" (notify, restore or "
		    "report)", p->text);
		return -1;
	}
	pol->nremind[clock] = 0;
	for (;;) {
		conf_next(p);
		if (conf_at_end(p)) {
			conf_pushback(p);
			return 0;
		}
		if (p->tok == TOK_WORD && strcmp(p->text, "before") == 0)
			return conf_end_statement(p);
		conf_pushback(p);
		if (conf_next_duration(p, "reminder", 1000, 365 * 86400000LL,
		    &off) == -1)
			return -1;
		if (pol->nremind[clock] == POLICY_MAX_REMINDERS) {
			conf_error(p, "at most %d reminders per clock",
			    POLICY_MAX_REMINDERS);
			return -1;
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

/*
 * "tell "unit-head" "ciso" for levels 3-4": contacts, mailed; "webhook
 * "NAME"" among them names a webhook, posted to (conf_webhook.c).  A
 * contact and a webhook may share a name: they are two recipients.
 */
static int
conf_parse_tell(struct conf_parser *p, void *arg)
{
	struct policy	*pol = arg;
	int		 levels[POLICY_LEVELS + 1], who[POLICY_MAX_RECIPIENTS];
	int		 n = 0, i, r;
	unsigned	 hook;

	for (;;) {
		conf_next(p);
		hook = 0;
		if (p->tok == TOK_WORD && strcmp(p->text, "webhook") == 0) {
			conf_next(p);
			if (p->tok != TOK_STRING && p->tok != TOK_WORD) {
				conf_error(p, "\"webhook\" in \"tell\" needs "
				    "the webhook's name");
				if (conf_at_end(p))
					conf_pushback(p);
				return -1;
			}
			hook = 1;
		} else if (p->tok != TOK_STRING)
			break;
		for (r = 0; r < pol->nrecipients; r++)
			if (strcmp(pol->recipients[r], p->text) == 0 &&
			    ((pol->webhooks >> r) & 1U) == hook)
				break;
		if (r == pol->nrecipients) {
			if (r == POLICY_MAX_RECIPIENTS) {
				conf_error(p, "at most %d recipients",
				    POLICY_MAX_RECIPIENTS);
				return -1;
			}
			p->conf->tell_file[r] = p->file;
			p->conf->tell_line[r] = p->tokline;
			pol->webhooks |= hook << r;
			pol->recipients[pol->nrecipients++] =
			    xstrdup(p->text);
		}
		if (n < POLICY_MAX_RECIPIENTS)
			who[n++] = r;
	}
	conf_pushback(p);
	if (n == 0) {
		conf_error(p, "\"tell\" needs at least one quoted recipient");
		return -1;
	}
	if (conf_parse_levels(p, levels) == -1)
		return -1;
	for (i = 1; i <= POLICY_LEVELS; i++)
		if (levels[i])
			for (r = 0; r < n; r++)
				pol->tell[i] |= 1U << who[r];
	return conf_end_statement(p);
}

/* "lost-network above 50%" */
static int
conf_parse_lost_network(struct conf_parser *p, void *arg)
{
	struct policy	*pol = arg;
	long long	 pct;
	char		*end;

	if (conf_expect_word(p, "above") == -1)
		return -1;
	conf_next(p);
	pct = p->tok == TOK_WORD ? strtoll(p->text, &end, 10) : 0;
	if (p->tok != TOK_WORD || !isdigit((unsigned char)p->text[0]) ||
	    strcmp(end, "%") != 0 || pct < 1 || pct > 100) {
		conf_error(p, "lost-network: expected a share such as 50%%");
		return -1;
	}
	pol->lost_network_pct = (int)pct;
	return conf_end_statement(p);
}

/* "reopen within 1h" */
static int
conf_parse_reopen(struct conf_parser *p, void *arg)
{
	struct policy	*pol = arg;

	if (conf_expect_word(p, "within") == -1 ||
	    conf_next_duration(p, "reopen", 0, 7 * 86400000LL,
	    &pol->reopen_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

/* "retention 3 years" */
static int
conf_parse_retention(struct conf_parser *p, void *arg)
{
	struct policy	*pol = arg;

	if (conf_next_period(p, "retention", &pol->retention) == -1)
		return -1;
	return conf_end_statement(p);
}

/* The statements of policy { ... } besides the clocks, named in policy.c. */
static const struct conf_keyword conf_policy_keywords[] = {
	{ "remind",		conf_parse_remind },
	{ "tell",		conf_parse_tell },
	{ "lost-network",	conf_parse_lost_network },
	{ "reopen",		conf_parse_reopen },
	{ "retention",		conf_parse_retention },
	{ NULL,			NULL }
};

static int
conf_policy_stmt(struct conf_parser *p, void *pol)
{
	const struct conf_keyword	*kw;
	enum policy_clock		 clock;

	if (policy_clock_find(p->text, &clock) == 0)
		return conf_parse_clock(p, pol, clock);
	if ((kw = conf_keyword_find(conf_policy_keywords, p->text)) != NULL)
		return kw->parse(p, pol);
	conf_error(p, "unknown keyword \"%s\" in policy", p->text);
	return -1;
}

/* policy { ... }: the procedure's numbers (rules/policy.conf). */
int
conf_parse_policy(struct conf_parser *p, void *arg)
{
	struct conf	*conf = p->conf;
	int		 line = p->tokline;

	(void)arg;
	if (conf->policy_file != NULL)
		conf_error(p, "policy already defined at %s:%d",
		    conf->policy_file, conf->policy_line);
	else {
		conf->policy_file = p->file;
		conf->policy_line = line;
	}
	return conf_parse_block(p, "policy", line, conf_policy_stmt,
	    &conf->policy);
}

/* The policy must cover what the procedure requires of every level. */
void
conf_check_policy(struct conf *conf, struct conf_errors *errs)
{
	const struct policy	*pol = &conf->policy;
	const char		*f = conf->policy_file;
	enum policy_clock	 c;
	int			 line = conf->policy_line, i;
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
