/*
 * conf_anomaly.c: anomaly blocks, the traffic counters' rules
 * (anomaly_rules.h); a BPF filter is compiled here so that -n reports it
 * at its line.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_parse.h"
#include "util.h"

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
static int
conf_parse_anomaly_threshold(struct conf_parser *p, struct anomaly_conf *a,
    enum anomaly_counter c)
{
	struct anomaly_threshold	 th;
	enum anomaly_unit		 unit = anomaly_counter_unit(c);
	const char			*name = anomaly_counter_name(c);
	char				*end;
	long long			 n;

	memset(&th, 0, sizeof(th));
	th.line = p->tokline;
	if (conf_expect_word(p, "above") == -1)
		return -1;
	conf_next(p);
	if (p->tok != TOK_WORD) {
		conf_error(p, "%s: missing the threshold after \"above\"",
		    name);
		if (conf_at_end(p))
			conf_pushback(p);
		return -1;
	}
	if (unit == ANOMALY_UNIT_RATE) {
		if (conf_anomaly_rate(p->text, &th.above) == -1) {
			conf_error(p, "%s: \"%s\" is not a rate such as "
			    "5000/s or 20k/s", name, p->text);
			return -1;
		}
	} else {
		n = strtoll(p->text, &end, 10);
		if (!isdigit((unsigned char)p->text[0]) || n < 1 ||
		    (unit == ANOMALY_UNIT_SHARE ? strcmp(end, "%") != 0 ||
		    n > 99 : *end != '\0' || n > 4096)) {
			conf_error(p, "%s: \"%s\" is not %s", name, p->text,
			    unit == ANOMALY_UNIT_SHARE ? "a share from 1% to "
			    "99%" : "a count from 1 to 4096");
			return -1;
		}
		th.above = (double)n;
	}
	if (conf_expect_word(p, unit == ANOMALY_UNIT_DISTINCT ? "in" :
	    "for") == -1 ||
	    conf_next_duration(p, name, a->window_ms, 3600000, &th.ms) == -1)
		return -1;
	if (a->th[c].set)
		conf_error(p, "%s given twice in anomaly \"%s\"", name,
		    a->name);
	th.set = 1;
	a->th[c] = th;
	return conf_end_statement(p);
}

/* arp-change "192.0.2.1": the address whose MAC must not change. */
static int
conf_anomaly_arp(struct conf_parser *p, void *arg)
{
	struct anomaly_conf	*a = arg;
	struct in_addr		 in;
	char			*s;

	if (conf_next_string(p, "IPv4 address after \"arp-change\"",
	    &s) == -1)
		return -1;
	if (inet_pton(AF_INET, s, &in) != 1)
		conf_error(p, "arp-change: \"%s\" is not an IPv4 address", s);
	else if (a->narp == ANOMALY_MAX_ARP)
		conf_error(p, "arp-change: at most %d addresses",
		    ANOMALY_MAX_ARP);
	else
		a->arp_ip[a->narp++] = in.s_addr;
	free(s);
	return conf_end_statement(p);
}

/* end after 30s: quiet this long, the episode is over. */
static int
conf_anomaly_end(struct conf_parser *p, void *arg)
{
	struct anomaly_conf	*a = arg;

	if (conf_expect_word(p, "after") == -1 ||
	    conf_next_duration(p, "end after", 1000, 86400000,
	    &a->end_ms) == -1)
		return -1;
	return conf_end_statement(p);
}

/* The statements of an anomaly block besides its counters (anomaly_rules.c). */
static const struct conf_keyword conf_anomaly_keywords[] = {
	{ "arp-change",	conf_anomaly_arp },
	{ "end",	conf_anomaly_end },
	{ NULL,		NULL }
};

static int
conf_anomaly_stmt(struct conf_parser *p, void *arg)
{
	const struct conf_keyword	*kw;
	struct anomaly_conf		*a = arg;
	size_t				 errors = p->errs->count;
	enum anomaly_counter		 c;
	int				 rc;

	if (anomaly_counter_find(p->text, &c) == 0)
		rc = conf_parse_anomaly_threshold(p, a, c);
	else if ((kw = conf_keyword_find(conf_anomaly_keywords,
	    p->text)) != NULL)
		rc = kw->parse(p, a);
	else {
		conf_error(p, "unknown counter \"%s\" in anomaly \"%s\"",
		    p->text, a->name);
		rc = -1;
	}
	if (p->errs->count > errors)
		a->bad_rules++;
	return rc;
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

/* anomaly "NAME" interface "IFACE" [filter "BPF"] [window 1s] { ... } */
int
conf_parse_anomaly(struct conf_parser *p, void *arg)
{
	struct anomaly_conf	*a;
	char			*what;
	int			 rc, pcap;

	(void)arg;
	a = xcalloc(1, sizeof(*a));
	a->file = p->file;
	a->line = p->tokline;
	a->window_ms = ANOMALY_DEFAULT_WINDOW_MS;
	a->end_ms = ANOMALY_DEFAULT_END_MS;
	if (conf_next_string(p, "anomaly name", &a->name) == -1 ||
	    conf_expect_word(p, "interface") == -1 ||
	    conf_next_string(p, "interface name", &a->interface) == -1) {
		/* Not kept: its block, if any, is skipped as it comes. */
		free(a->name);
		free(a->interface);
		free(a);
		return -1;
	}
	TAILQ_INSERT_TAIL(&p->conf->anomalies, a, entry);
	if (a->name[0] == '\0')
		conf_error(p, "empty anomaly name");
	/* Its capture, and its filter's compiling below, need libpcap. */
	pcap = conf_need_lib(p, LAZYLIB_PCAP, "an anomaly block") == 0;
	for (;;) {
		conf_next(p);
		if (p->tok == TOK_WORD && strcmp(p->text, "filter") == 0) {
			free(a->filter);
			a->filter = NULL;
			if (conf_next_string(p, "BPF filter", &a->filter) ==
			    0 && pcap)
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
	rc = conf_parse_block(p, what, a->line, conf_anomaly_stmt, a);
	free(what);
	return rc;
}

/*
 * The slow-* counters' periods (what they are for) are longer than the
 * short ones' they stand beside.
 */
static void
conf_check_anomaly_slow(const struct anomaly_conf *a,
    struct conf_errors *errs)
{
	static const int	 pair[][2] = {
		{ ANOMALY_SLOW_PORTS_PER_SOURCE, ANOMALY_PORTS_PER_SOURCE },
		{ ANOMALY_SLOW_HOSTS_PER_SOURCE, ANOMALY_HOSTS_PER_SOURCE },
	};
	const struct anomaly_threshold	*slow, *fast;
	size_t				 i;

	for (i = 0; i < sizeof(pair) / sizeof(pair[0]); i++) {
		slow = &a->th[pair[i][0]];
		fast = &a->th[pair[i][1]];
		if (slow->set && fast->set && slow->ms <= fast->ms)
			conf_error_at(errs, a->file, slow->line, "anomaly "
			    "\"%s\": %s: its period must be longer than %s's",
			    a->name, anomaly_counter_name(pair[i][0]),
			    anomaly_counter_name(pair[i][1]));
	}
}

/* Names are unique; each block counts something. */
void
conf_check_anomalies(struct conf *conf, struct conf_errors *errs)
{
	const struct anomaly_conf	*a, *a2;
	enum anomaly_counter		 c;

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
		conf_check_anomaly_slow(a, errs);
	}
}
