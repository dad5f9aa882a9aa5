/*
 * test_notify_event.c: the desktop agent's reading of GET /v1/events and
 * what it says about each event, in the local zone Asia/Taipei (UTC+8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "notify_event.h"

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "Asia/Taipei", 1);
	tzset();
	return 0;
}

static int
parse(const char *json, struct notify_batch *b, char *err, size_t len)
{
	return notify_batch_parse(json, strlen(json), b, err, len);
}

static void
test_batch(void **state)
{
	struct notify_batch	 b;
	const struct notify_event *ev;
	char			 err[128];

	(void)state;
	assert_int_equal(parse("{\"events\": [{\"id\": 42, \"at\": "
	    "\"2026-11-26T01:02:03.456Z\", \"event\": \"opened\", \"actor\": "
	    "\"rtowatchd\", \"detail\": \"refused\", \"incident\": 7, "
	    "\"warning\": null, \"system\": \"portal\", \"level\": 3, "
	    "\"major\": true}, {\"id\": 50, \"event\": \"warning opened\", "
	    "\"incident\": null, \"warning\": 3, \"system\": null, "
	    "\"level\": null}], \"last\": 50}", &b, err, sizeof(err)), 0);
	assert_int_equal(b.count, 2);
	assert_true(b.last == 50);
	ev = &b.events[0];
	assert_true(ev->id == 42 && ev->incident == 7 && ev->warning == 0);
	assert_string_equal(ev->event, "opened");
	assert_string_equal(ev->at, "2026-11-26T01:02:03.456Z");
	assert_string_equal(ev->system, "portal");
	assert_string_equal(ev->detail, "refused");
	assert_int_equal(ev->level, 3);
	assert_int_equal(ev->major, 1);
	assert_int_equal(ev->drill, 0);
	ev = &b.events[1];
	assert_true(ev->incident == 0 && ev->warning == 3);
	assert_null(ev->system);
	assert_null(ev->at);
	assert_int_equal(ev->level, 0);
	assert_int_equal(ev->major, 0);
	notify_batch_free(&b);

	/* A drill's events carry kind "drill" (5.8.1). */
	assert_int_equal(parse("{\"events\": [{\"id\": 1, \"event\": "
	    "\"opened\", \"kind\": \"drill\"}, {\"id\": 2, \"event\": "
	    "\"opened\", \"kind\": \"outage\"}], \"last\": 2}", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.events[0].drill, 1);
	assert_int_equal(b.events[1].drill, 0);
	notify_batch_free(&b);

	/* The newest id, where a new client starts. */
	assert_int_equal(parse("{\"events\": [], \"last\": 9}", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.count, 0);
	assert_true(b.last == 9);
	notify_batch_free(&b);

	/*
	 * A transient event (the store failing) has no id, is shown, and
	 * moves nothing: the events held meanwhile come later, with lower
	 * ids than one it could have had.
	 */
	assert_int_equal(parse("{\"events\": [{\"transient\": true, "
	    "\"event\": \"store failing\", \"detail\": \"locked\"}], "
	    "\"last\": 9}", &b, err, sizeof(err)), 0);
	assert_int_equal(b.count, 1);
	assert_true(b.last == 9);
	assert_true(b.events[0].transient && b.events[0].id == 0);
	assert_true(notify_event_worth(&b.events[0]));
	assert_true(notify_event_critical(&b.events[0]));
	notify_batch_free(&b);

	/* "last" never behind the events themselves. */
	assert_int_equal(parse("{\"events\": [{\"id\": 12, \"event\": "
	    "\"opened\"}], \"last\": 3}", &b, err, sizeof(err)), 0);
	assert_true(b.last == 12);
	notify_batch_free(&b);
}

/* A member of the wrong type is absent; the event is still read. */
static void
test_wrong_types(void **state)
{
	struct notify_batch	 b;
	char			 err[128];

	(void)state;
	assert_int_equal(parse("{\"events\": [{\"id\": 1, \"event\": "
	    "\"opened\", \"level\": \"3\", \"system\": 5, \"incident\": -2, "
	    "\"major\": 1, \"detail\": [\"x\"]}, {\"id\": 2, \"event\": "
	    "\"restored\", \"level\": 9}], \"last\": 2}", &b, err,
	    sizeof(err)), 0);
	assert_int_equal(b.events[0].level, 0);
	assert_null(b.events[0].system);
	assert_null(b.events[0].detail);
	assert_true(b.events[0].incident == 0);
	assert_int_equal(b.events[0].major, 0);
	assert_int_equal(b.events[1].level, 0);
	notify_batch_free(&b);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"events\": []}",
		"{\"last\": 3}",
		"{\"events\": {}, \"last\": 3}",
		"{\"events\": [], \"last\": -1}",
		"{\"events\": [], \"last\": \"3\"}",
		"{\"events\": [], \"last\": 3, \"last\": 4}",
		/* Without an id or a name the batch's order is unknowable. */
		"{\"events\": [{\"event\": \"opened\"}], \"last\": 3}",
		"{\"events\": [{\"id\": 0, \"event\": \"opened\"}], \"last\": 3}",
		"{\"events\": [{\"id\": 2, \"event\": \"\"}], \"last\": 3}",
		"{\"events\": [{\"id\": 2}], \"last\": 3}",
		"{\"events\": [3], \"last\": 3}",
		"{\"events\": [{\"id\": 2, \"event\": \"opened\"}, {\"id\": 2, "
		    "\"event\": \"restored\"}], \"last\": 3}",
		"{\"events\": [{\"id\": 2, \"event\": \"a\\u0000b\"}], "
		    "\"last\": 3}",
	};
	struct notify_batch	 b;
	char			 err[128];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse(bad[i], &b, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
		assert_int_equal(b.count, 0);
		assert_null(b.events);
	}
	assert_int_equal(notify_batch_parse("{}", NOTIFY_BATCH_MAX + 1, &b,
	    err, sizeof(err)), -1);
}

static void
test_error_text(void **state)
{
	char	*s;

	(void)state;
	s = notify_error_text("{\"error\": \"no role\"}", 20);
	assert_string_equal(s, "no role");
	free(s);
	assert_null(notify_error_text("{\"error\": 3}", 12));
	assert_null(notify_error_text("<html>", 6));
}

static struct notify_event
event(const char *name, int level, int64_t incident)
{
	struct notify_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.event = (char *)(uintptr_t)name;
	ev.level = level;
	ev.incident = incident;
	return ev;
}

static void
test_worth_and_urgency(void **state)
{
	static const char *const shown[] = {
		"opened", "reclassified", "failed again", "restored",
		"notify reminder", "restore reminder", "report reminder",
		"notify deadline missed", "restore deadline missed",
		"report deadline missed", "mail failing", "warning opened",
		"webhook failed",		/* refused for good */
		"webhook failing",		/* not delivered yet */
		"closure reminder",		/* a clock added later */
	};
	static const char *const quiet[] = {
		"acknowledged", "reported", "field set", "level set",
		"damage controlled", "report filed", "closed",
		"maintenance added", "affected system down",
		"affected system ended", "warning confirmed",
		"warning false positive", "reminder", "opened again",
	};
	struct notify_event	 ev;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
		ev = event(shown[i], 1, 1);
		assert_true(notify_event_worth(&ev));
	}
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		ev = event(quiet[i], 4, 1);
		assert_false(notify_event_worth(&ev));
	}
	/* Critical: levels 3-4, missed deadlines, failing mail. */
	ev = event("opened", 3, 1);
	assert_true(notify_event_critical(&ev));
	ev = event("restored", 4, 1);
	assert_true(notify_event_critical(&ev));
	ev = event("opened", 2, 1);
	assert_false(notify_event_critical(&ev));
	ev = event("restore reminder", 2, 1);
	assert_false(notify_event_critical(&ev));
	ev = event("notify deadline missed", 1, 1);
	assert_true(notify_event_critical(&ev));
	ev = event("closure deadline missed", 1, 1);
	assert_true(notify_event_critical(&ev));
	ev = event("mail failing", 0, 0);
	assert_true(notify_event_critical(&ev));
	ev = event("warning opened", 0, 0);
	assert_false(notify_event_critical(&ev));
}

static void
test_summary(void **state)
{
	struct notify_event	 ev;
	char			*s;

	(void)state;
	ev = event("opened", 3, 7);
	ev.major = 1;
	ev.system = (char *)(uintptr_t)"portal";
	s = notify_event_summary(&ev);
	assert_string_equal(s, "Level 3 major · portal · opened 事件開立");
	free(s);
	ev = event("restore reminder", 2, 7);
	ev.system = (char *)(uintptr_t)"wiki";
	s = notify_event_summary(&ev);
	assert_string_equal(s, "Level 2 · wiki · restore reminder 復原期限提醒");
	free(s);
	/* Times inside the detail are local too, not the timeline's UTC. */
	ev = event("restored", 3, 7);
	ev.detail = (char *)(uintptr_t)"down since 2026-11-26T01:02:03.456Z";
	s = notify_event_body(&ev);
	assert_string_equal(s, "down since 2026-11-26 09:02:03\n"
	    "事件 Incident #7");
	free(s);

	ev = event("warning opened", 0, 0);
	ev.warning = 3;
	s = notify_event_summary(&ev);
	assert_string_equal(s, "Warning 預警 · warning opened 資安預警");
	free(s);
	ev = event("mail failing", 0, 0);
	s = notify_event_summary(&ev);
	assert_string_equal(s, "mail failing 郵件寄送失敗");
	free(s);
	/* A drill (5.8.1) says so first; the closure clock has its name. */
	ev = event("close reminder", 1, 9);
	ev.drill = 1;
	ev.system = (char *)(uintptr_t)"portal";
	s = notify_event_summary(&ev);
	assert_string_equal(s, "[DRILL 演練] Level 1 · portal · close "
	    "reminder 結案期限提醒");
	free(s);
}

static void
test_body(void **state)
{
	struct notify_event	 ev;
	char			 detail[700], *s;

	(void)state;
	ev = event("opened", 3, 7);
	ev.detail = (char *)(uintptr_t)"tcp 127.0.0.1:443: refused";
	ev.at = (char *)(uintptr_t)"2026-11-26T01:02:03.456Z";
	s = notify_event_body(&ev);
	assert_string_equal(s, "tcp 127.0.0.1:443: refused\n"
	    "事件 Incident #7 · 2026-11-26 09:02:03 CST");
	free(s);

	/* Times inside the detail are local too, not the timeline's UTC. */
	ev = event("restored", 3, 7);
	ev.detail = (char *)(uintptr_t)"down since 2026-11-26T01:02:03.456Z";
	s = notify_event_body(&ev);
	assert_string_equal(s, "down since 2026-11-26 09:02:03\n"
	    "事件 Incident #7");
	free(s);

	ev = event("warning opened", 0, 0);
	ev.warning = 3;
	s = notify_event_body(&ev);
	assert_string_equal(s, "預警 Warning #3");
	free(s);

	/* A long detail is cut, never inside a UTF-8 character. */
	memset(detail, 0, sizeof(detail));
	memset(detail, 'a', 599);
	strcat(detail, "結束");
	ev = event("opened", 1, 2);
	ev.detail = detail;
	s = notify_event_body(&ev);
	assert_string_equal(s + 599, "…\n事件 Incident #2");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_worth_and_urgency),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_body),
	};

	return cmocka_run_group_tests_name("notify_event", tests, setup,
	    NULL);
}
