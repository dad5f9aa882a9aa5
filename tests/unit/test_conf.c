/*
 * test_conf.c: the rules parser, on good files and on every error it
 * reports, message for message.
 */
#include <sys/stat.h>

#include <fcntl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "probe.h"
#include "resolve.h"

#define SYS_HEAD	"system \"s\" {\n core yes\n rto 1m\n"
/* Every rules file needs a policy; the cases below get this one line. */
#define POLICY_LINE	"policy { notify within 1h; restore within 72h; " \
			"retention 3 years; tell \"unit-head\" }\n"

static struct conf *
parse(const char *text, struct conf_errors *errs)
{
	struct conf	*conf;
	char		*full;

	if (asprintf(&full, "%s%s", POLICY_LINE, text) == -1)
		fail();
	conf = conf_parse_buffer("t.conf", full, strlen(full), errs);
	free(full);
	return conf;
}

/* The cases name lines as written; parse() put the policy above them. */
static char *
shifted(const char *msg)
{
	const char	*s, *hit;
	char		*out;
	size_t		 len = 0;
	int		 line, n;

	out = malloc(strlen(msg) + 16);
	assert_non_null(out);
	for (s = msg; (hit = strstr(s, "t.conf:")) != NULL; s = hit + n) {
		memcpy(out + len, s, (size_t)(hit - s));
		len += (size_t)(hit - s);
		if (sscanf(hit, "t.conf:%d%n", &line, &n) != 1) {
			n = 7;
			memcpy(out + len, hit, 7);
			len += 7;
			continue;
		}
		len += (size_t)sprintf(out + len, "t.conf:%d", line + 1);
	}
	strcpy(out + len, s);
	return out;
}

static void
test_good(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct system_conf	*sys;
	struct check_conf	*cc;

	(void)state;
	conf = parse(
	    "# comment\n"
	    "set database \"/tmp/x.db\"\n"
	    "system \"郵件系統\" {\n"
	    "\tcore yes; critical-infrastructure yes\n"
	    "\trto 4h\n"
	    "\towner \"System Group\"   # trailing comment\n"
	    "\tcheck tcp 192.0.2.25 port 25 every 10s timeout 1s\n"
	    "\tcheck tcp mail.example.edu port 993\n"
	    "\tdown after 5 failures\n"
	    "\tup after 1 success\n"
	    "}\n"
	    "system web { core no; rto 90s; check tcp 2001:db8::1 port 443 "
	    "every 1s }\n", &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_string_equal(conf->database, "/tmp/x.db");
	assert_int_equal(conf->nsystems, 2);

	sys = TAILQ_FIRST(&conf->systems);
	assert_string_equal(sys->name, "郵件系統");
	assert_int_equal(sys->core, 1);
	assert_int_equal(sys->critical_infrastructure, 1);
	assert_true(sys->rto_ms == 4 * 3600 * 1000LL);
	assert_string_equal(sys->owner, "System Group");
	assert_int_equal(sys->down_after, 5);
	assert_int_equal(sys->up_after, 1);
	assert_int_equal(sys->nchecks, 2);
	cc = TAILQ_FIRST(&sys->checks);
	assert_ptr_equal(cc->ops, &probe_tcp_ops);
	assert_string_equal(cc->target, "192.0.2.25");
	assert_true(cc->every_ms == 10000 && cc->timeout_ms == 1000);
	assert_int_equal(cc->line, 7 + 1);
	cc = TAILQ_NEXT(cc, entry);
	assert_true(cc->every_ms == CONF_DEFAULT_EVERY_MS);
	assert_true(cc->timeout_ms == CONF_DEFAULT_TIMEOUT_MS);

	sys = TAILQ_NEXT(sys, entry);
	assert_string_equal(sys->name, "web");
	assert_int_equal(sys->critical_infrastructure, 0);
	assert_int_equal(sys->down_after, CONF_DEFAULT_DOWN_AFTER);
	assert_int_equal(sys->up_after, CONF_DEFAULT_UP_AFTER);
	cc = TAILQ_FIRST(&sys->checks);
	/* An unset timeout shrinks below a short interval. */
	assert_true(cc->every_ms == 1000 && cc->timeout_ms == 500);
	assert_non_null(conf_find_system(conf, "web"));
	assert_null(conf_find_system(conf, "nope"));
	/* No socket line: the packaged default. */
	assert_string_equal(conf->socket, CONF_DEFAULT_SOCKET);
	assert_true(TAILQ_EMPTY(&conf->roles));
	conf_free(conf);
}

/* The control socket's path, its roles, and the event categories. */
static void
test_socket_roles_categories(void **state)
{
	struct conf_errors		 errs = { NULL, 0 };
	const struct category_conf	*c;
	const struct role_conf		*r;
	struct conf			*conf;

	(void)state;
	conf = parse("set socket \"/run/x/control.sock\"\n"
	    "role operator group \"ims\"\n"
	    "role auditor  group \"audit\"\n"
	    "category \"DOS-1\" \"服務中斷\" \"service interruption\"\n"
	    "category \"OTH\" \"其他\" \"other\"\n"
	    "system web { core no; rto 90s; check tcp ::1 port 443 }\n",
	    &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_string_equal(conf->socket, "/run/x/control.sock");
	r = TAILQ_FIRST(&conf->roles);
	assert_int_equal(r->role, ROLE_OPERATOR);
	assert_string_equal(r->group, "ims");
	r = TAILQ_NEXT(r, entry);
	assert_int_equal(r->role, ROLE_AUDITOR);
	assert_string_equal(r->group, "audit");
	assert_null(TAILQ_NEXT(r, entry));
	c = conf_find_category(conf, "DOS-1");
	assert_non_null(c);
	assert_string_equal(c->name_zh, "服務中斷");
	assert_string_equal(c->name_en, "service interruption");
	assert_null(conf_find_category(conf, "DOS"));
	conf_free(conf);
}

static void
test_user_group(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;

	(void)state;
	conf = parse(SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n", &errs);
	assert_non_null(conf);
	assert_null(conf->user);
	assert_null(conf->group);
	conf_free(conf);
	/* The last one wins, like the other settings. */
	conf = parse("set user \"nobody\"\nset group \"nogroup\"\n"
	    "set user \"rtowatch\"\n"
	    SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n", &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_string_equal(conf->user, "rtowatch");
	assert_string_equal(conf->group, "nogroup");
	conf_free(conf);
}

/* The response-time history's settings, and their defaults. */
static void
test_history_settings(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;

	(void)state;
	conf = parse(SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n", &errs);
	assert_non_null(conf);
	assert_true(conf->history_bucket_ms == 60000);
	assert_true(conf->history_minutes_ms == 7 * 86400000LL);
	assert_true(conf->history_hours_ms == 400 * 86400000LL);
	assert_true(conf->observations_keep_ms == 400 * 86400000LL);
	conf_free(conf);
	conf = parse("set history-minutes 2d\nset history-hours 90d\n"
	    "set history-bucket 1s\nset observations-keep 1100d\n"
	    SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n", &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_true(conf->history_bucket_ms == 1000);
	assert_true(conf->history_minutes_ms == 2 * 86400000LL);
	assert_true(conf->history_hours_ms == 90 * 86400000LL);
	assert_true(conf->observations_keep_ms == 1100 * 86400000LL);
	conf_free(conf);
}

/* Vantage points: the node's name, leading, and the quorums. */
static void
test_vantage(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct system_conf	*sys;

	(void)state;
	conf = parse(SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n", &errs);
	assert_non_null(conf);
	assert_true(conf->lead);
	assert_non_null(conf->node_name);
	assert_true(conf->node_name[0] != '\0');
	assert_int_equal(conf->quorum.need, 0);
	conf_free(conf);
	conf = parse("set node \"north\"\nset lead no\n"
	    "down when 2 of 3 vantage points fail\n"
	    SYS_HEAD " check tcp 127.0.0.1 port 1\n"
	    " down when 1 of 2 vantage points fail\n down after 2\n}\n",
	    &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_string_equal(conf->node_name, "north");
	assert_false(conf->lead);
	assert_int_equal(conf->quorum.need, 2);
	assert_int_equal(conf->quorum.of, 3);
	sys = TAILQ_FIRST(&conf->systems);
	assert_int_equal(sys->quorum.need, 1);
	assert_int_equal(sys->quorum.of, 2);
	assert_int_equal(sys->down_after, 2);
	conf_free(conf);
}

/* "vantage points": the nodes that probe a system; all without it. */
static void
test_vantage_assigned(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct system_conf	*sys, *all;

	(void)state;
	conf = parse("set node \"south\"\n"
	    "down when 2 of 2 vantage points fail\n"
	    SYS_HEAD " check tcp 127.0.0.1 port 1\n"
	    " vantage points \"north\" \"south\"\n}\n"
	    "system \"t\" { core no; rto 1h; check tcp 127.0.0.1 port 2 }\n",
	    &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	sys = TAILQ_FIRST(&conf->systems);
	all = TAILQ_NEXT(sys, entry);
	assert_int_equal(sys->nvantage, 2);
	assert_string_equal(sys->vantage[0], "north");
	assert_string_equal(sys->vantage[1], "south");
	assert_int_equal(all->nvantage, 0);
	assert_true(conf_system_probed_here(conf, sys));
	assert_true(conf_system_probed_here(conf, all));
	free(conf->node_name);
	conf->node_name = strdup("east");
	assert_false(conf_system_probed_here(conf, sys));
	assert_true(conf_system_probed_here(conf, all));
	conf_free(conf);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*text;
		int64_t		 ms;
	} good[] = {
		{ "250ms", 250 }, { "30s", 30000 }, { "5m", 300000 },
		{ "4h", 14400000 }, { "3d", 259200000 }, { "0s", 0 },
	};
	static const char *const bad[] = {
		"5", "5x", "s", "-1s", "1.5h", "5 m", "", "99999999999999999d",
		"1sm",
	};
	int64_t	 ms;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(conf_parse_duration(good[i].text, &ms), 0);
		assert_true(ms == good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(conf_parse_duration(bad[i], &ms), -1);
}

/* Each bad input and the exact errors it must give, in order. */
static const struct {
	const char	*text;
	const char	*errors[4];
} bad_cases[] = {
	{ "frobnicate yes\n",
	  { "t.conf:1: unknown keyword \"frobnicate\"" } },
	{ "set colour \"red\"\n",
	  { "t.conf:1: unknown setting \"colour\"" } },
	{ "set history-bucket 1500ms\nset history-minutes 30m\n"
	  "set history-hours 20000d\nset observations-keep 2h\n",
	  { "t.conf:1: history-bucket: whole seconds",
	    "t.conf:2: history-minutes 30m out of range (1h-366d)",
	    "t.conf:3: history-hours 20000d out of range (1d-3660d)",
	    "t.conf:4: observations-keep 2h out of range (1d-3660d)" } },
	{ "set user \"root\"\nset group \"\"\nset user\n",
	  { "t.conf:1: set user \"root\": name an unprivileged user",
	    "t.conf:2: set group \"\": name an unprivileged group",
	    "t.conf:3: missing user name" } },
	{ "\n\n" SYS_HEAD " colour red\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:6: unknown keyword \"colour\" in system \"s\"" } },
	{ "system \"s\" {\n core yes\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:1: system \"s\": missing rto (its recovery time "
	    "objective decides general or major)" } },
	{ "system \"s\" {\n rto 1m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:1: system \"s\": missing \"core yes|no\" (it decides "
	    "the level, 5.3.2)" } },
	{ SYS_HEAD "}\n",
	  { "t.conf:1: system \"s\": no check" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n"
	  "\n" SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:7: duplicate system \"s\" (first defined at "
	    "t.conf:1)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 1s timeout 1s\n}\n",
	  { "t.conf:4: timeout 1s must be below the interval 1s" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 2s timeout 5s\n}\n",
	  { "t.conf:4: timeout 5s must be below the interval 2s" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 0\n}\n",
	  { "t.conf:4: port 0 out of range (1-65535)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 65536\n}\n",
	  { "t.conf:4: port 65536 out of range (1-65535)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port http\n}\n",
	  { "t.conf:4: port: \"http\" is not a number" } },
	{ SYS_HEAD " check tcp 127.0.0.1\n}\n",
	  { "t.conf:4: tcp check of 127.0.0.1: missing \"port N\"" } },
	{ SYS_HEAD " check tcp \"a b\" port 1\n}\n",
	  { "t.conf:4: tcp check: \"a b\" is not a host name or address" } },
	{ SYS_HEAD " check smoke 127.0.0.1\n}\n",
	  { "t.conf:4: unknown check kind \"smoke\"" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 colour red\n}\n",
	  { "t.conf:4: unknown tcp check option \"colour\"" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 50ms\n}\n",
	  { "t.conf:4: every 50ms out of range (100ms-1d)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1 every 2d\n}\n",
	  { "t.conf:4: every 2d out of range (100ms-1d)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n down after 0 failures\n}\n",
	  { "t.conf:5: down after 0 out of range (1-100)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n up after 101\n}\n",
	  { "t.conf:5: up after 101 out of range (1-100)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n down 3\n}\n",
	  { "t.conf:5: expected \"after\", found \"3\"" } },
	{ "system \"s\" {\n core maybe\n rto 1m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:2: core must be yes or no, not \"maybe\"" } },
	{ "system \"s\" {\n core yes\n rto 5x\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:3: rto: \"5x\" is not a duration (a number with ms, s, "
	    "m, h or d)" } },
	{ "system \"s\" {\n core yes\n rto 500ms\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:3: rto 500ms out of range (1s-365d)" } },
	{ SYS_HEAD " rto 2m\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: rto set twice" } },
	{ SYS_HEAD " owner \"unterminated\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: unterminated string" } },
	{ SYS_HEAD " owner \"a\\qb\"\n check tcp 127.0.0.1 port 1\n}\n",
	  { "t.conf:4: unknown escape \\q in string" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n",
	  { "t.conf:1: system \"s\": missing '}'" } },
	{ "system \"s\" core yes\n",
	  { "t.conf:1: expected '{' after system \"s\"",
	    "t.conf:1: system \"s\": missing rto (its recovery time "
	    "objective decides general or major)",
	    "t.conf:1: system \"s\": missing \"core yes|no\" (it decides "
	    "the level, 5.3.2)",
	    "t.conf:1: system \"s\": no check" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n depends \"nowhere\"\n}\n",
	  { "t.conf:5: system \"s\" depends on unknown system "
	    "\"nowhere\"" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n depends \"s\"\n}\n",
	  { "t.conf:5: system \"s\" depends on itself" } },
	{ "system a { core no; rto 1m; check tcp ::1 port 1; depends b }\n"
	  "system b { core no; rto 1m; check tcp ::1 port 1; depends c }\n"
	  "system c { core no; rto 1m; check tcp ::1 port 1; depends a }\n"
	  "system d { core no; rto 1m; check tcp ::1 port 1; depends a }\n",
	  { "t.conf:1: system \"a\": its dependencies form a cycle",
	    "t.conf:2: system \"b\": its dependencies form a cycle",
	    "t.conf:3: system \"c\": its dependencies form a cycle" } },
	{ "}\n", { "t.conf:1: unexpected '}'" } },
	{ "set database\n", { "t.conf:1: missing database path" } },
	{ "set database \"a\" \"b\"\n",
	  { "t.conf:1: unexpected \"b\" at end of statement" } },
	{ "include \"/nonexistent/rtowatch-test.conf\"\n",
	  { "t.conf:1: cannot open \"/nonexistent/rtowatch-test.conf\": "
	    "No such file or directory" } },
	/* The control socket's roles and the event categories. */
	{ "role admin group \"ims\"\n",
	  { "t.conf:1: unknown role \"admin\": operator or auditor" } },
	{ "role operator \"ims\"\n",
	  { "t.conf:1: expected \"group\", found \"ims\"" } },
	{ "role auditor group \"\"\n", { "t.conf:1: empty group name" } },
	{ "role operator group \"ims\"\nrole auditor group \"ims\"\n",
	  { "t.conf:2: group \"ims\" already has a role at t.conf:1" } },
	{ "category \"dos\" \"阻斷服務\" \"denial of service\"\n",
	  { "t.conf:1: category code \"dos\": capital letters, digits and "
	    "'-', at most 16" } },
	{ "category \"DOS\" \"阻斷服務\"\n",
	  { "t.conf:1: missing category name in English" } },
	{ "category \"DOS\" \"a\" \"b\"\ncategory \"DOS\" \"c\" \"d\"\n",
	  { "t.conf:2: category \"DOS\" already defined at t.conf:1" } },
	{ "set socket\n", { "t.conf:1: missing control socket path" } },
	{ "down when 3 of 2 vantage points fail\ndown after 3\n"
	  "set node \"\"\nset lead maybe\n",
	  { "t.conf:1: down when 3 of 2: more must fail than there are "
	    "vantage points",
	    "t.conf:2: expected \"down when N of M vantage points fail\" "
	    "(\"down after\" belongs in a system block)",
	    "t.conf:3: node: a name of 1 to 64 characters",
	    "t.conf:4: lead must be yes or no, not \"maybe\"" } },
	/* More vantage points to agree than the system has assigned. */
	{ "down when 2 of 3 vantage points fail\n"
	  SYS_HEAD " check tcp 127.0.0.1 port 1\n"
	  " vantage points \"a\" \"b\"\n}\n",
	  { "t.conf:6: system \"s\": down when 2 of 3 vantage points fail, "
	    "but only 2 are assigned to it" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n"
	  " vantage points \"a\"\n down when 2 of 2 vantage points fail\n"
	  "}\n",
	  { "t.conf:5: system \"s\": down when 2 of 2 vantage points fail, "
	    "but only 1 is assigned to it" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n vantage points\n"
	  " vantage points \"a\" \"a\"\n vantage points \"b\"\n}\n",
	  { "t.conf:5: expected the nodes' names after \"vantage points\", "
	    "such as \"vantage points \\\"north\\\" \\\"south\\\"\"",
	    "t.conf:6: vantage point \"a\" named twice",
	    "t.conf:7: \"vantage points\" set twice (first at t.conf:6)" } },
	{ SYS_HEAD " check tcp 127.0.0.1 port 1\n vantage points north\n}\n",
	  { "t.conf:5: expected the nodes' names after \"vantage points\", "
	    "such as \"vantage points \\\"north\\\" \\\"south\\\"\"" } },
	/* Several errors in one file: all of them, each at its line. */
	{ "bogus\n" SYS_HEAD " check tcp 127.0.0.1 port 99999\n"
	  " down after 0\n}\n",
	  { "t.conf:1: unknown keyword \"bogus\"",
	    "t.conf:5: port 99999 out of range (1-65535)",
	    "t.conf:6: down after 0 out of range (1-100)" } },
};

static void
test_errors(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	size_t			 i;
	size_t			 j, n;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		conf = parse(bad_cases[i].text, &errs);
		assert_null(conf);
		for (n = 0; n < 4 && bad_cases[i].errors[n] != NULL; n++)
			;
		if (errs.count != n)
			for (j = 0; j < errs.count; j++)
				print_error("case %zu: %s\n", i, errs.msg[j]);
		assert_int_equal(errs.count, n);
		for (j = 0; j < n; j++) {
			char *want = shifted(bad_cases[i].errors[j]);

			assert_string_equal(errs.msg[j], want);
			free(want);
		}
		conf_errors_clear(&errs);
	}
}

/* rules/policy.conf's language, and what a policy must cover. */
static void
test_policy(void **state)
{
	static const char *const good =
	    "policy {\n"
	    " notify within 1h\n"
	    " remind notify 10m 30m before\n"
	    " restore within 72h for levels 1-2\n"
	    " restore within 36h for levels 3-4\n"
	    " report within 1 month for levels 3-4\n"
	    " close within 72h for levels 1-2\n"
	    " close within 36h for levels 3-4\n"
	    " remind close 2h 12h before\n"
	    " retention 3 years\n"
	    " reopen within 15m\n"
	    " tell \"unit-head\" for levels 1-4\n"
	    " tell \"unit-head\" \"ciso\" for level 3-4\n"
	    "}\n"
	    "system s { core yes; rto 1m; check tcp 127.0.0.1 port 1 }\n";
	static const struct {
		const char	*text;
		const char	*error;
	} bad[] = {
		{ "policy {\n notify within 1h\n restore within 72h\n"
		  " retention 3 years\n tell \"a\" for levels 1-3\n}\n",
		  "t.conf:1: policy: nobody to tell for level 4" },
		{ "policy {\n notify within 1h for levels 1-3\n"
		  " restore within 72h\n retention 3 years\n tell \"a\"\n}\n",
		  "t.conf:1: policy: no notify clock for level 4" },
		{ "policy {\n notify within 1h\n restore within 72h\n"
		  " tell \"a\"\n}\n",
		  "t.conf:1: policy: missing retention" },
		{ "policy {\n notify within 1h\n restore within 72h\n"
		  " retention 3 years\n tell \"a\"\n remind notify 1h\n}\n",
		  "t.conf:1: policy: reminder 1h before the notify deadline is "
		  "not shorter than the clock" },
		{ "policy {\n notify within 2 weeks\n}\n",
		  "t.conf:2: notify: expected \"months\" or \"years\" after 2" },
		{ "policy {\n restore within 36h for levels 3-5\n}\n",
		  "t.conf:2: levels must be 1-4 or a range such as 3-4, not "
		  "\"3-5\"" },
		{ "policy {\n remind lunch 1h\n}\n",
		  "t.conf:2: unknown clock \"lunch\" (notify, restore or "
		  "report)" },
		{ "policy {\n tell for levels 1-4\n}\n",
		  "t.conf:2: \"tell\" needs at least one quoted recipient" },
		{ "policy {\n notify within 1h\n notify within 2h\n}\n",
		  "t.conf:3: notify clock for level 1 set twice" },
		{ "policy {\n}\npolicy {\n}\n",
		  "t.conf:3: policy already defined at t.conf:1" },
		{ "system s { core yes; rto 1m; check tcp 127.0.0.1 port 1 }\n",
		  "t.conf: no policy: include \"policy.conf\" (the "
		  "procedure's clocks and routing)" },
	};
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	const struct policy	*pol;
	size_t			 i;
	size_t			 j;
	int			 found;

	(void)state;
	conf = conf_parse_buffer("t.conf", good, strlen(good), &errs);
	for (j = 0; j < errs.count; j++)
		print_error("%s\n", errs.msg[j]);
	assert_non_null(conf);
	pol = &conf->policy;
	assert_true(pol->length[CLOCK_NOTIFY][4].ms == 3600000);
	assert_true(pol->length[CLOCK_RESTORE][2].ms == 72 * 3600000LL);
	assert_true(pol->length[CLOCK_RESTORE][3].ms == 36 * 3600000LL);
	assert_false(pol->applies[CLOCK_REPORT][2]);
	assert_int_equal(pol->length[CLOCK_REPORT][4].months, 1);
	/* 5.3.8's closure deadline (結案期限), its reminders sorted. */
	assert_true(pol->length[CLOCK_CLOSE][2].ms == 72 * 3600000LL);
	assert_true(pol->length[CLOCK_CLOSE][3].ms == 36 * 3600000LL);
	assert_int_equal(pol->nremind[CLOCK_CLOSE], 2);
	assert_true(pol->remind[CLOCK_CLOSE][0] == 12 * 3600000LL);
	assert_int_equal(pol->retention.months, 36);
	assert_true(pol->reopen_ms == 15 * 60000);
	/* Reminders kept largest first, whatever the order written. */
	assert_int_equal(pol->nremind[CLOCK_NOTIFY], 2);
	assert_true(pol->remind[CLOCK_NOTIFY][0] == 30 * 60000);
	assert_true(pol->remind[CLOCK_NOTIFY][1] == 10 * 60000);
	assert_int_equal(pol->nrecipients, 2);
	assert_string_equal(pol->recipients[0], "unit-head");
	assert_string_equal(pol->recipients[1], "ciso");
	assert_int_equal(pol->tell[2], 1);
	assert_int_equal(pol->tell[3], 3);
	conf_free(conf);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_null(conf_parse_buffer("t.conf", bad[i].text,
		    strlen(bad[i].text), &errs));
		for (j = 0, found = 0; j < errs.count; j++)
			found |= strcmp(errs.msg[j], bad[i].error) == 0;
		if (!found)
			for (j = 0; j < errs.count; j++)
				print_error("case %zu: %s\n", i, errs.msg[j]);
		assert_true(found);
		conf_errors_clear(&errs);
	}
}

/* Runaway input is cut off at CONF_MAX_ERRORS, with a last word. */
static void
test_too_many_errors(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	char			*text;
	size_t			 i, len = 0;

	(void)state;
	text = malloc(500 * 4 + 1);
	assert_non_null(text);
	for (i = 0; i < 500; i++)
		len += (size_t)sprintf(text + len, "xx\n");
	assert_null(conf_parse_buffer("t.conf", text, len, &errs));
	/* 100 errors, the last word, and no more (not even "no policy"). */
	assert_int_equal(errs.count, CONF_MAX_ERRORS + 1);
	assert_string_equal(errs.msg[CONF_MAX_ERRORS],
	    "t.conf:101: too many errors, giving up");
	conf_errors_clear(&errs);
	free(text);
}

/* Includes: relative to the including file; errors name the included file. */
static void
test_include(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	char			 dir[] = "/tmp/rtowatch-test-XXXXXX";
	char			 main_path[128], sub_path[128], *msg;
	FILE			*fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
	snprintf(sub_path, sizeof(sub_path), "%s/sub.conf", dir);

	fp = fopen(main_path, "w");
	assert_non_null(fp);
	fprintf(fp, "set database \"data/r.db\"\ninclude \"sub.conf\"\n"
	    POLICY_LINE);
	fclose(fp);
	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n");
	fclose(fp);
	conf = conf_load(main_path, &errs);
	assert_int_equal(errs.count, 0);
	assert_non_null(conf);
	assert_non_null(conf_find_system(conf, "s"));
	assert_true(strcmp(conf->database, dir) > 0);
	assert_non_null(strstr(conf->database, "/data/r.db"));
	conf_free(conf);

	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, "\n\nnonsense\n");
	fclose(fp);
	assert_null(conf_load(main_path, &errs));
	assert_int_equal(errs.count, 1);
	assert_true(asprintf(&msg, "%s:3: unknown keyword \"nonsense\"",
	    sub_path) > 0);
	assert_string_equal(errs.msg[0], msg);
	free(msg);
	conf_errors_clear(&errs);

	/* A file that includes itself stops at the depth limit. */
	fp = fopen(sub_path, "w");
	assert_non_null(fp);
	fprintf(fp, "include \"sub.conf\"\n");
	fclose(fp);
	assert_null(conf_load(main_path, &errs));
	assert_int_equal(errs.count, 1);
	assert_non_null(strstr(errs.msg[0], "includes nested too deeply"));
	conf_errors_clear(&errs);

	assert_null(conf_load("/nonexistent/rtowatch.conf", &errs));
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.msg[0], "/nonexistent/rtowatch.conf: "
	    "cannot open: No such file or directory");
	conf_errors_clear(&errs);

	unlink(sub_path);
	unlink(main_path);
	rmdir(dir);
}

#define SYS_OK	SYS_HEAD " check tcp 127.0.0.1 port 1\n}\n"

/* Contacts and the SMTP settings, and every error they can give. */
static void
test_mail(void **state)
{
	static const struct {
		const char	*text;
		const char	*error;
	} bad[] = {
		{ "set smtp \"smtp://127.0.0.1:25\"\n"
		  "contact \"unit-head\" { email \"u@b\" }\n" SYS_OK,
		  "t.conf:1: smtp: missing \"set mail-from\" (the sender "
		  "address)" },
		{ "set smtp \"http://127.0.0.1\"; set mail-from \"a@b\"\n"
		  "contact \"unit-head\" { email \"u@b\" }\n" SYS_OK,
		  "t.conf:1: smtp \"http://127.0.0.1\": expected "
		  "smtp://HOST:PORT or smtps://HOST:PORT" },
		{ "set smtp \"smtp://h/x\"; set mail-from \"a@b\"\n"
		  "contact \"unit-head\" { email \"u@b\" }\n" SYS_OK,
		  "t.conf:1: smtp \"smtp://h/x\": expected "
		  "smtp://HOST:PORT or smtps://HOST:PORT" },
		{ "set smtp \"smtp://h\"; set mail-from \"nobody\"\n"
		  "contact \"unit-head\" { email \"u@b\" }\n" SYS_OK,
		  "t.conf:1: mail-from \"nobody\": not an email address" },
		{ "set smtp \"smtp://h:25\"; set mail-from \"a@b\"\n" SYS_OK,
		  "t.conf:0: tell \"unit-head\": no contact \"unit-head\" "
		  "with an email address, and \"set smtp\" mails every "
		  "notification" },
		{ "contact \"unit-head\" { email \"u@b\" }\n"
		  "contact \"unit-head\" { email \"v@b\" }\n" SYS_OK,
		  "t.conf:2: duplicate contact \"unit-head\" (first defined "
		  "at t.conf:1)" },
		{ "contact \"x\" {\n phone \"1\"\n}\n" SYS_OK,
		  "t.conf:1: contact \"x\": missing email" },
		{ "contact \"x\" { email \"a b@c\" }\n" SYS_OK,
		  "t.conf:1: contact \"x\": \"a b@c\" is not an email "
		  "address" },
		{ "contact \"x\" { email \"a@c\"; email \"d@c\" }\n" SYS_OK,
		  "t.conf:1: contact \"x\": email given twice" },
		{ "contact \"x\" { email \"a@c\"; pager \"1\" }\n" SYS_OK,
		  "t.conf:1: unknown keyword \"pager\" in contact" },
		{ "set smtp \"smtps://h\"; set mail-from \"a@b\"\n"
		  "set smtp-starttls yes\n"
		  "contact \"unit-head\" { email \"u@b\" }\n" SYS_OK,
		  "t.conf:1: smtp-starttls is for smtp:// servers; smtps:// "
		  "is TLS from the start" },
		{ "set smtp-starttls maybe\n" SYS_OK,
		  "t.conf:1: smtp-starttls must be yes or no, not \"maybe\"" },
		{ "set mail-alert-after 0s\n" SYS_OK,
		  "t.conf:1: mail-alert-after 0s out of range (1s-7d)" },
		{ "set store-alert-after 500ms\n" SYS_OK,
		  "t.conf:1: store-alert-after 500ms out of range (1s-7d)" },
		{ "set mail-retry 10m 5s\n" SYS_OK,
		  "t.conf:1: mail-retry: the longest wait is shorter than the "
		  "first" },
		{ "set mail-retry 5s\n" SYS_OK,
		  "t.conf:1: missing mail-retry longest wait" },
		{ "set mail-timeout 500ms\n" SYS_OK,
		  "t.conf:1: mail-timeout 500ms out of range (1s-1h)" },
		{ "set mail-timeout soon\n" SYS_OK,
		  "t.conf:1: mail-timeout: \"soon\" is not a duration (a "
		  "number with ms, s, m, h or d)" },
		{ "set smtp-credentials \"/nonexistent/creds\"\n" SYS_OK,
		  "t.conf:1: smtp-credentials \"/nonexistent/creds\": No such "
		  "file or directory" },
		{ "set smtp-ca-file \"/nonexistent/ca.pem\"\n" SYS_OK,
		  "t.conf:1: smtp-ca-file \"/nonexistent/ca.pem\": No such "
		  "file or directory" },
	};
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct contact_conf	*c;
	char			 creds[] = "/tmp/rtowatch-creds-XXXXXX";
	char			*text, *want;
	size_t			 i, j;
	int			 fd;

	(void)state;
	conf = parse("set smtp \"smtp://127.0.0.1:2525\"\n"
	    "set mail-from \"rtowatch@example.edu\"\n"
	    "set smtp-starttls no\n"
	    "set mail-alert-after 30s; set mail-retry 1s 4s\n"
	    "set store-alert-after 2m\n"
	    "set mail-timeout 2m\n"
	    "contact \"unit-head\" {\n email \"netadmin@example.edu\"\n"
	    " phone \"+886-2-1234-5678\"\n name \"王小明\"\n}\n"
	    "contact \"spare\" { email \"spare@example.edu\" }\n" SYS_OK,
	    &errs);
	for (j = 0; j < errs.count; j++)
		print_error("%s\n", errs.msg[j]);
	assert_non_null(conf);
	assert_string_equal(conf->mail.smtp, "smtp://127.0.0.1:2525");
	assert_string_equal(conf->mail.from, "rtowatch@example.edu");
	assert_int_equal(conf->mail.starttls, CONF_STARTTLS_NO);
	assert_true(conf->mail.alert_after_ms == 30000);
	assert_true(conf->store_alert_after_ms == 120000);
	assert_true(conf->mail.retry_ms == 1000 &&
	    conf->mail.retry_max_ms == 4000);
	assert_true(conf->mail.timeout_ms == 120000);
	c = conf_find_contact(conf, "unit-head");
	assert_non_null(c);
	assert_string_equal(c->email, "netadmin@example.edu");
	assert_string_equal(c->phone, "+886-2-1234-5678");
	assert_string_equal(c->person, "王小明");
	assert_null(conf_find_contact(conf, "ciso"));
	conf_free(conf);

	/* No server: mail is off, the defaults stand, no contact needed. */
	conf = parse(SYS_OK, &errs);
	assert_non_null(conf);
	assert_null(conf->mail.smtp);
	assert_int_equal(conf->mail.starttls, CONF_STARTTLS_TRY);
	assert_true(conf->mail.alert_after_ms == CONF_DEFAULT_MAIL_ALERT_MS);
	assert_true(conf->mail.retry_ms == CONF_DEFAULT_MAIL_RETRY_MS);
	assert_true(conf->mail.timeout_ms == CONF_DEFAULT_MAIL_TIMEOUT_MS);
	conf_free(conf);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		conf = parse(bad[i].text, &errs);
		assert_null(conf);
		if (errs.count != 1)
			for (j = 0; j < errs.count; j++)
				print_error("mail case %zu: %s\n", i,
				    errs.msg[j]);
		assert_int_equal(errs.count, 1);
		want = shifted(bad[i].error);
		assert_string_equal(errs.msg[0], want);
		free(want);
		conf_errors_clear(&errs);
	}

	/* The credentials file: the daemon's alone, and user:password. */
	fd = mkstemp(creds);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "mailer:s3cret:x\n", 16), 16);
	close(fd);
	assert_true(asprintf(&text, "set smtp-credentials \"%s\"\n" SYS_OK,
	    creds) > 0);
	assert_int_equal(chmod(creds, 0600), 0);
	conf = parse(text, &errs);
	assert_non_null(conf);
	assert_string_equal(conf->mail.user, "mailer");
	assert_string_equal(conf->mail.password, "s3cret:x");
	conf_free(conf);

	assert_int_equal(chmod(creds, 0644), 0);
	assert_null(parse(text, &errs));
	assert_int_equal(errs.count, 1);
	assert_true(asprintf(&want, "t.conf:2: smtp-credentials \"%s\": mode "
	    "0644 lets group or others read it; make it readable by the "
	    "daemon's user only (chmod 600)", creds) > 0);
	assert_string_equal(errs.msg[0], want);
	free(want);
	conf_errors_clear(&errs);

	assert_int_equal(chmod(creds, 0600), 0);
	fd = open(creds, O_WRONLY | O_TRUNC);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "no colon\n", 9), 9);
	close(fd);
	assert_null(parse(text, &errs));
	assert_int_equal(errs.count, 1);
	assert_true(asprintf(&want, "t.conf:2: smtp-credentials \"%s\": "
	    "expected \"user:password\" on its first line", creds) > 0);
	assert_string_equal(errs.msg[0], want);
	free(want);
	conf_errors_clear(&errs);
	free(text);
	unlink(creds);
}

/*
 * set resolver, set dns-ttl: how the checks' host names are resolved;
 * set https-concurrency: how many https probes run at once.
 */
static void
test_resolver(void **state)
{
	static const struct {
		const char	*text;
		const char	*error;
	} bad[] = {
		{ "set resolver \"ns.example.edu\"\n" SYS_OK,
		  "t.conf:1: resolver \"ns.example.edu\": not an address or "
		  "address:port" },
		{ "set resolver \"127.0.0.1:99999\"\n" SYS_OK,
		  "t.conf:1: resolver \"127.0.0.1:99999\": not an address or "
		  "address:port" },
		{ "set resolver \"192.0.2.1\"; set resolver \"192.0.2.2\"\n"
		  "set resolver \"192.0.2.3\"; set resolver \"192.0.2.4\"\n"
		  SYS_OK,
		  "t.conf:2: resolver \"192.0.2.4\": at most 3 resolvers" },
		{ "set resolver\n" SYS_OK,
		  "t.conf:1: missing resolver address" },
		{ "set dns-ttl 1h 5s\n" SYS_OK,
		  "t.conf:1: dns-ttl: the longest time is shorter than the "
		  "shortest" },
		{ "set dns-ttl 5s\n" SYS_OK,
		  "t.conf:1: missing dns-ttl longest" },
		{ "set dns-ttl 5s 2d\n" SYS_OK,
		  "t.conf:1: dns-ttl longest 2d out of range (0ms-1d)" },
		{ "set https-concurrency 0\n" SYS_OK,
		  "t.conf:1: https-concurrency 0 out of range (1-100000)" },
		{ "set https-concurrency many\n" SYS_OK,
		  "t.conf:1: https-concurrency: \"many\" is not a number" },
	};
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	char			*text, *want;
	size_t			 i;

	(void)state;
	conf = parse(SYS_OK, &errs);
	assert_non_null(conf);
	assert_int_equal(conf->nresolvers, 0);
	assert_true(conf->dns_ttl_min_ms == CONF_DEFAULT_DNS_TTL_MIN_MS &&
	    conf->dns_ttl_max_ms == CONF_DEFAULT_DNS_TTL_MAX_MS);
	assert_int_equal(conf->https_concurrency, 128);
	conf_free(conf);
	conf = parse("set https-concurrency 16\n" SYS_OK, &errs);
	assert_non_null(conf);
	assert_int_equal(conf->https_concurrency, 16);
	conf_free(conf);

	conf = parse("set resolver \"127.0.0.1:5353\"\n"
	    "set resolver \"[::1]:53\"; set resolver 192.0.2.53\n"
	    "set dns-ttl 0s 10m\n" SYS_OK, &errs);
	assert_non_null(conf);
	assert_int_equal(conf->nresolvers, 3);
	assert_string_equal(conf->resolvers[0], "127.0.0.1:5353");
	assert_string_equal(conf->resolvers[1], "[::1]:53");
	assert_string_equal(conf->resolvers[2], "192.0.2.53");
	assert_true(conf->dns_ttl_min_ms == 0 &&
	    conf->dns_ttl_max_ms == 600000);
	conf_free(conf);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		text = strdup(bad[i].text);
		assert_non_null(text);
		assert_null(parse(text, &errs));
		want = shifted(bad[i].error);
		if (errs.count != 1 || strcmp(errs.msg[0], want) != 0)
			print_error("case %zu: %s\n", i, errs.count > 0 ?
			    errs.msg[0] : "(no error)");
		assert_int_equal(errs.count, 1);
		assert_string_equal(errs.msg[0], want);
		free(want);
		free(text);
		conf_errors_clear(&errs);
	}

	/* The TTL as kept: within the bounds, the longest for nonsense. */
	assert_true(resolve_ttl_ms(2, 1000, 3600000) == 2000);
	assert_true(resolve_ttl_ms(0, 5000, 3600000) == 5000);
	assert_true(resolve_ttl_ms(86400, 5000, 3600000) == 3600000);
	assert_true(resolve_ttl_ms(-1, 5000, 3600000) == 3600000);
	assert_true(resolve_ttl_ms(4294967295LL, 0, 3600000) == 3600000);
	assert_true(resolve_ttl_ms(30, 0, 0) == 0);
}

#define ANOMALY_HEAD	"anomaly \"a\" interface \"eth0\" {\n"

/* anomaly blocks: what each counter's threshold reads. */
static void
test_anomaly_good(void **state)
{
	static const char text[] =
	    "anomaly \"edge\" interface \"eth0\" filter \"not port 22\" "
	    "window 500ms {\n"
	    " syn-rate above 5000/s for 10s\n"
	    " syn-unanswered above 80% for 10s\n"
	    " packet-rate above 1M/s for 5s\n"
	    " byte-rate above 10G/s for 5s\n"
	    " icmp-rate above 2k/s for 5s\n"
	    " udp-amplification-rate above 2000/s for 5s\n"
	    " distinct-ports-per-source above 100 in 60s\n"
	    " distinct-hosts-per-source above 50 in 1m\n"
	    " udp-rate above 50k/s for 5s\n"
	    " bad-fragment-rate above 10/s for 1s\n"
	    " slow-distinct-ports-per-source above 100 in 5m\n"
	    " slow-distinct-hosts-per-source above 50 in 10m\n"
	    " arp-change \"192.0.2.1\"; arp-change \"192.0.2.254\"\n"
	    " end after 30s\n"
	    "}\n"
	    "anomaly \"arp\" interface \"any\" { arp-change \"192.0.2.1\" }\n";
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	struct anomaly_conf	*a;

	(void)state;
	conf = parse(text, &errs);
	if (conf == NULL && errs.count > 0)
		print_error("%s\n", errs.msg[0]);
	assert_non_null(conf);
	a = TAILQ_FIRST(&conf->anomalies);
	assert_string_equal(a->name, "edge");
	assert_string_equal(a->interface, "eth0");
	assert_string_equal(a->filter, "not port 22");
	assert_true(a->window_ms == 500 && a->end_ms == 30000);
	assert_true(a->th[ANOMALY_SYN_RATE].set &&
	    a->th[ANOMALY_SYN_RATE].above == 5000 &&
	    a->th[ANOMALY_SYN_RATE].ms == 10000);
	assert_true(a->th[ANOMALY_SYN_UNANSWERED].above == 80);
	assert_true(a->th[ANOMALY_PACKET_RATE].above == 1e6);
	assert_true(a->th[ANOMALY_BYTE_RATE].above == 1e10);
	assert_true(a->th[ANOMALY_ICMP_RATE].above == 2000);
	assert_true(a->th[ANOMALY_PORTS_PER_SOURCE].above == 100 &&
	    a->th[ANOMALY_PORTS_PER_SOURCE].ms == 60000);
	assert_true(a->th[ANOMALY_HOSTS_PER_SOURCE].ms == 60000);
	assert_true(a->th[ANOMALY_UDP_RATE].above == 50000);
	assert_true(a->th[ANOMALY_BAD_FRAGMENT_RATE].above == 10 &&
	    a->th[ANOMALY_BAD_FRAGMENT_RATE].ms == 1000);
	assert_true(a->th[ANOMALY_SLOW_PORTS_PER_SOURCE].above == 100 &&
	    a->th[ANOMALY_SLOW_PORTS_PER_SOURCE].ms == 300000);
	assert_true(a->th[ANOMALY_SLOW_HOSTS_PER_SOURCE].ms == 600000);
	assert_int_equal(a->narp, 2);
	a = TAILQ_NEXT(a, entry);
	assert_string_equal(a->name, "arp");
	assert_null(a->filter);
	assert_true(a->window_ms == ANOMALY_DEFAULT_WINDOW_MS &&
	    a->end_ms == ANOMALY_DEFAULT_END_MS);
	assert_false(a->th[ANOMALY_SYN_RATE].set);
	conf_free(conf);
}

static const struct {
	const char	*text;
	const char	*errors[2];
} anomaly_cases[] = {
	{ "anomaly\n", { "t.conf:1: missing anomaly name" } },
	{ "anomaly \"\" interface \"eth0\" { arp-change \"192.0.2.1\" }\n",
	  { "t.conf:1: empty anomaly name" } },
	{ "anomaly \"a\" \"eth0\" {\n}\n",
	  { "t.conf:1: expected \"interface\", found \"eth0\"",
	    "t.conf:2: unexpected '}'" } },
	{ "anomaly \"a\" interface\n",
	  { "t.conf:1: missing interface name" } },
	{ "anomaly \"a\" interface \"eth0\" filter \"tcp port\" {\n"
	  " syn-rate above 10/s for 1s\n}\n",
	  { "t.conf:1: filter \"tcp port\": can't parse filter expression: "
	    "syntax error" } },
	{ "anomaly \"a\" interface \"eth0\" filter \"port 99999\" {\n"
	  " syn-rate above 10/s for 1s\n}\n",
	  { "t.conf:1: filter \"port 99999\": illegal port number 99999 > "
	    "65535" } },
	{ "anomaly \"a\" interface \"eth0\" window 50ms {\n"
	  " syn-rate above 10/s for 1s\n}\n",
	  { "t.conf:1: window 50ms out of range (100ms-1m)" } },
	{ "anomaly \"a\" interface \"eth0\" syn-rate above 10/s for 1s\n",
	  { "t.conf:1: expected '{' after anomaly \"a\"",
	    "t.conf:1: anomaly \"a\": no counter" } },
	{ ANOMALY_HEAD " syn-rate above 10/s for 1s\n",
	  { "t.conf:1: anomaly \"a\": missing '}'" } },
	{ ANOMALY_HEAD " frobs above 10/s for 1s\n"
	  " syn-rate above 1/s for 1s\n}\n",
	  { "t.conf:2: unknown counter \"frobs\" in anomaly \"a\"" } },
	{ ANOMALY_HEAD " syn-rate 10/s for 1s\n}\n",
	  { "t.conf:2: expected \"above\", found \"10/s\"" } },
	{ ANOMALY_HEAD " syn-rate above\n}\n",
	  { "t.conf:2: syn-rate: missing the threshold after \"above\"" } },
	{ ANOMALY_HEAD " syn-rate above 5000 for 1s\n}\n",
	  { "t.conf:2: syn-rate: \"5000\" is not a rate such as 5000/s or "
	    "20k/s" } },
	{ ANOMALY_HEAD " syn-unanswered above 100% for 1s\n}\n",
	  { "t.conf:2: syn-unanswered: \"100%\" is not a share from 1% to "
	    "99%" } },
	{ ANOMALY_HEAD " distinct-ports-per-source above 5000 in 1m\n}\n",
	  { "t.conf:2: distinct-ports-per-source: \"5000\" is not a count "
	    "from 1 to 4096" } },
	{ ANOMALY_HEAD " syn-rate above 10/s in 1s\n}\n",
	  { "t.conf:2: expected \"for\", found \"in\"" } },
	{ ANOMALY_HEAD " distinct-hosts-per-source above 10 for 1m\n}\n",
	  { "t.conf:2: expected \"in\", found \"for\"" } },
	{ ANOMALY_HEAD " syn-rate above 10/s for 500ms\n}\n",
	  { "t.conf:2: syn-rate 500ms out of range (1s-1h)" } },
	{ ANOMALY_HEAD " syn-rate above 10/s for 1s\n"
	  " syn-rate above 20/s for 2s\n}\n",
	  { "t.conf:3: syn-rate given twice in anomaly \"a\"" } },
	{ ANOMALY_HEAD " distinct-ports-per-source above 100 in 5m\n"
	  " slow-distinct-ports-per-source above 100 in 5m\n}\n",
	  { "t.conf:3: anomaly \"a\": slow-distinct-ports-per-source: its "
	    "period must be longer than distinct-ports-per-source's" } },
	{ ANOMALY_HEAD " arp-change \"gateway\"\n}\n",
	  { "t.conf:2: arp-change: \"gateway\" is not an IPv4 address" } },
	{ ANOMALY_HEAD " arp-change\n}\n",
	  { "t.conf:2: missing IPv4 address after \"arp-change\"" } },
	{ ANOMALY_HEAD " arp-change \"192.0.2.1\"\n end after 0s\n}\n",
	  { "t.conf:3: end after 0s out of range (1s-1d)" } },
	{ ANOMALY_HEAD " arp-change \"192.0.2.1\"\n}\n"
	  "anomaly \"a\" interface \"eth1\" { arp-change \"192.0.2.1\" }\n",
	  { "t.conf:4: anomaly \"a\" already defined at t.conf:1" } },
	{ ANOMALY_HEAD "}\n", { "t.conf:1: anomaly \"a\": no counter" } },
	{ "anomaly \"a\" interface \"eth0\" window 400ms {\n"
	  " syn-rate above 10/s for 1s\n}\n",
	  { "t.conf:2: anomaly \"a\": syn-rate: the duration must be a whole "
	    "number of windows" } },
};

static void
test_anomaly_errors(void **state)
{
	struct conf_errors	 errs = { NULL, 0 };
	struct conf		*conf;
	char			*text, *p, *want;
	size_t			 i;
	size_t			 j, n;

	(void)state;
	for (i = 0; i < sizeof(anomaly_cases) / sizeof(anomaly_cases[0]);
	    i++) {
		conf = parse(anomaly_cases[i].text, &errs);
		assert_null(conf);
		for (n = 0; n < 2 && anomaly_cases[i].errors[n] != NULL; n++)
			;
		if (errs.count != n)
			for (j = 0; j < errs.count; j++)
				print_error("anomaly case %zu: %s\n", i,
				    errs.msg[j]);
		assert_int_equal(errs.count, n);
		for (j = 0; j < n; j++) {
			want = shifted(anomaly_cases[i].errors[j]);
			assert_string_equal(errs.msg[j], want);
			free(want);
		}
		conf_errors_clear(&errs);
	}

	/* At most ANOMALY_MAX_ARP watched addresses in one block. */
	text = malloc(64 + (ANOMALY_MAX_ARP + 1) * 32);
	assert_non_null(text);
	p = text + sprintf(text, "%s", ANOMALY_HEAD);
	for (j = 0; j <= ANOMALY_MAX_ARP; j++)
		p += sprintf(p, " arp-change \"192.0.2.%zu\"\n", j + 1);
	strcpy(p, "}\n");
	assert_null(parse(text, &errs));
	assert_int_equal(errs.count, 1);
	want = shifted("t.conf:66: arp-change: at most 64 addresses");
	assert_string_equal(errs.msg[0], want);
	free(want);
	free(text);
	conf_errors_clear(&errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_user_group),
		cmocka_unit_test(test_socket_roles_categories),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_history_settings),
		cmocka_unit_test(test_vantage),
		cmocka_unit_test(test_vantage_assigned),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_anomaly_good),
		cmocka_unit_test(test_anomaly_errors),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
