/*
 * workflow.h: what people record about incidents and early warnings,
 * through the control socket: acknowledgement, the portal report and its
 * ticket, the form's fields, confidentiality and integrity levels, damage
 * controlled, the investigation report, closing, answers to warnings and
 * maintenance windows.
 *
 * Each action checks everything first, then writes its change, its
 * timeline event (with the caller's OS account as actor), its clocks and
 * its notifications in one transaction: a refused action changes nothing.
 */
#ifndef RTOWATCH_WORKFLOW_H
#define RTOWATCH_WORKFLOW_H

#include <stdint.h>

struct clocks;
struct conf;
struct engine;
struct store;
struct store_warning;

/*
 * What the workflow works with, made by the engine (engine_workflow):
 * the store it writes, the clocks it stops and starts, the rules it
 * checks (the current ones: a reload sets them), and the engine, told of
 * a level, a major incident or a window a person set, and asked whether
 * it watches a system.
 */
struct workflow {
	struct store		*store;
	struct clocks		*clocks;
	const struct conf	*conf;
	struct engine		*engine;
};

#define WF_OK		200
#define WF_BAD		400	/* the request is wrong */
#define WF_NOT_FOUND	404
#define WF_CONFLICT	409	/* the record's state forbids it */
#define WF_FAILED	500	/* the database refused the write */

struct wf_result {
	int		 status;
	char		 error[512];
	int64_t		 incident;
	int64_t		 warning;
	int64_t		 event;		/* the last timeline row written */
	const char	*missing[16];	/* close: the fields still empty */
	int		 nmissing;
};

int	wf_ack(struct workflow *, int64_t, const char *, const char *,
	    struct wf_result *);
int	wf_reported(struct workflow *, int64_t, const char *, const char *,
	    int64_t, const char *, const char *, struct wf_result *);
int	wf_set(struct workflow *, int64_t, const char *, const char *,
	    const char *, struct wf_result *);
int	wf_level(struct workflow *, int64_t, const char *, int, int,
	    const char *, struct wf_result *);
int	wf_controlled(struct workflow *, int64_t, const char *, const char *,
	    struct wf_result *);
int	wf_report_filed(struct workflow *, int64_t, const char *, const char *,
	    struct wf_result *);
int	wf_close(struct workflow *, int64_t, const char *, const char *,
	    struct wf_result *);
int	wf_warning_open(struct workflow *, const char *,
	    const struct store_warning *, struct wf_result *);
int	wf_warning_answer(struct workflow *, int64_t, const char *,
	    const char *, const char *, int, struct wf_result *);
int	wf_maintenance_add(struct workflow *, const char *, const char *,
	    int64_t, int64_t, const char *, struct wf_result *);
int	wf_maintenance_cancel(struct workflow *, int64_t, const char *,
	    const char *, struct wf_result *);
int	wf_portal_closed(struct workflow *, int64_t, const char *, int64_t,
	    const char *, const char *, struct wf_result *);
int	wf_major(struct workflow *, int64_t, const char *, const char *,
	    struct wf_result *);
int	wf_contact(struct workflow *, int64_t, const char *, const char *,
	    const char *, int64_t, const char *, int, struct wf_result *);
int	wf_open(struct workflow *, const char *, const char *, const char *,
	    int, int64_t, const char *, struct wf_result *);
int	wf_restored(struct workflow *, int64_t, const char *, int64_t,
	    const char *, struct wf_result *);
int	wf_drill(struct workflow *, const char *, const char *, const char *,
	    int, int, const char *, struct wf_result *);
const char *wf_field_column(const char *);

#endif
