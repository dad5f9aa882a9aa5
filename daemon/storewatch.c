/*
 * storewatch.c: the database file is watched.
 *
 * SQLite writes through the descriptors it opened, so a database file
 * deleted or replaced under a running daemon (an admin's rm, an mv of an
 * old copy over it, a restore gone wrong) takes every later write with
 * it: the daemon goes on recording into a file nobody can open any more,
 * and a restart finds nothing.  Every STOREWATCH_MS the path and its -wal
 * and -shm files are compared with those the daemon has open (device and
 * inode).  When one differs, the open database is copied with SQLite's
 * online backup API into a new file beside the path, STOREWATCH_PAGES
 * pages per turn of the loop so that the probes keep their schedule; the
 * copy is fsynced and put in the path's place (exchanged with a stranger's
 * file in one step, so the path never lacks a database), and the store
 * reconnects to it.  What costs the most in one go has a turn of its own:
 * the fsync of the pages copied so far, before the last step, and the
 * close of the old file, whose blocks are freed then when it was deleted.
 * The backup reads through the connection that writes, WAL and all, and a
 * write made between two steps updates the copy as well, so whatever was
 * recorded before the swap is in the file after it.
 *
 * A file found in the database's place is not ours to destroy: it is kept
 * as PATH.replaced-TIME (with its -wal and -shm), and the log says so.
 */
#include <sys/stat.h>

#include <event2/event.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "storewatch.h"
#include "util.h"

#define STOREWATCH_MS		2000	/* how often the path is looked at */
#define STOREWATCH_PAGES	128	/* pages copied per turn of the loop */
#define STOREWATCH_RETRY_MS	50	/* source busy: the next step */
#define STOREWATCH_STREAK_MS	600000	/* repairs closer: a streak */

static const char *const storewatch_sides[] = { "", "-wal", "-shm" };
#define STOREWATCH_NSIDES \
	(sizeof(storewatch_sides) / sizeof(storewatch_sides[0]))

struct storewatch_id {
	dev_t		 dev;
	ino_t		 ino;
	int		 known;
};

struct storewatch {
	struct store		*store;
	char			*path;
	struct event		*tick;
	struct event		*step;
	/* The database file and its -wal and -shm, as opened. */
	struct storewatch_id	 id[STOREWATCH_NSIDES];
	int			 failing;	/* said once, until repaired */
	int			 streak;	/* repairs, each soon after */
	int64_t			 last;		/* the last one (monotonic) */
	int64_t			 pause;		/* no look before (monotonic) */

	/* The copy under way. */
	sqlite3			*copy;
	sqlite3_backup		*backup;
	char			*tmp;
	int			 fd;		/* the copy, for its writeback */
	int			 synced;	/* all but the last step's */
	int			 moved;		/* the old file to close */
	char			 why[64];
	int64_t			 began;		/* monotonic */
};

/* Where the file PATH+side is now; 0 with errno when absent. */
static int
storewatch_stat(struct storewatch *sw, size_t side, struct storewatch_id *id)
{
	struct stat	 sb;
	char		*name;
	int		 rc, saved;

	xasprintf(&name, "%s%s", sw->path, storewatch_sides[side]);
	rc = stat(name, &sb);
	saved = errno;
	free(name);
	memset(id, 0, sizeof(*id));
	if (rc == -1) {
		errno = saved;
		return 0;
	}
	id->dev = sb.st_dev;
	id->ino = sb.st_ino;
	id->known = 1;
	return 1;
}

static int
storewatch_same(const struct storewatch_id *a, const struct storewatch_id *b)
{
	return a->known && b->known && a->dev == b->dev && a->ino == b->ino;
}

/*
 * Remember the files as they are.  The -wal and -shm may appear after
 * the database (SQLite makes them at its first read): what is there when
 * the database is the one we opened is ours.
 */
static void
storewatch_remember(struct storewatch *sw, int all)
{
	struct storewatch_id	 now;
	size_t			 i;

	for (i = 0; i < STOREWATCH_NSIDES; i++)
		if ((all || !sw->id[i].known) && storewatch_stat(sw, i, &now))
			sw->id[i] = now;
}

static void
storewatch_discard(struct storewatch *sw)
{
	if (sw->backup != NULL)
		sqlite3_backup_finish(sw->backup);
	sw->backup = NULL;
	if (sw->copy != NULL)
		sqlite3_close(sw->copy);
	sw->copy = NULL;
	if (sw->fd != -1)
		close(sw->fd);
	sw->fd = -1;
	if (sw->tmp != NULL)
		(void)unlink(sw->tmp);
	free(sw->tmp);
	sw->tmp = NULL;
}

/* The repair failed: said once, tried again at the next look. */
static void
storewatch_fail(struct storewatch *sw, const char *what, const char *err)
{
	if (!sw->failing)
		log_warnx("%s: cannot write the database back to its path "
		    "(%s: %s); still recording into the open file, which a "
		    "restart would lose: trying again every %d s", sw->path,
		    what, err, STOREWATCH_MS / 1000);
	sw->failing = 1;
	storewatch_discard(sw);
}

static void
storewatch_later(struct storewatch *sw, int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(sw->step, &tv);
}

/* The directory of the database, for its rename to be durable. */
static int
storewatch_fsync_dir(const char *path)
{
	char	*dir, *slash;
	int	 fd, rc;

	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Out of the way before the copy takes the path: our own -wal and -shm
 * (the open connection keeps them by descriptor), and another file's
 * ones, kept beside the path as ASIDE-wal and ASIDE-shm.
 */
static int
storewatch_clear(struct storewatch *sw, const char *aside, int *kept)
{
	struct storewatch_id	 now;
	char			*name, *to;
	size_t			 i;
	int			 rc = 0;

	for (i = 1; i < STOREWATCH_NSIDES && rc == 0; i++) {
		if (!storewatch_stat(sw, i, &now))
			continue;
		xasprintf(&name, "%s%s", sw->path, storewatch_sides[i]);
		if (storewatch_same(&now, &sw->id[i]))
			rc = unlink(name);
		else {
			xasprintf(&to, "%s%s", aside, storewatch_sides[i]);
			if ((rc = rename(name, to)) == 0)
				*kept = 1;
			free(to);
		}
		if (rc == -1 && errno == ENOENT)
			rc = 0;
		free(name);
	}
	return rc;
}

/*
 * The copy takes the path.  Another file found there is exchanged with
 * it in one step, then named ASIDE, so that the path never lacks a
 * complete database, even if we die in between; our own old file, if
 * only its -wal or -shm went, is simply replaced.
 */
static int
storewatch_rename(struct storewatch *sw, const char *aside, int *kept)
{
	struct storewatch_id	 now;

	if (!storewatch_stat(sw, 0, &now) || storewatch_same(&now, &sw->id[0]))
		return rename(sw->tmp, sw->path);
	if (renameat2(AT_FDCWD, sw->tmp, AT_FDCWD, sw->path,
	    RENAME_EXCHANGE) == 0) {
		*kept = 1;
		if (rename(sw->tmp, aside) == -1)
			log_warn("%s: the file found in its place is now %s",
			    sw->path, sw->tmp);
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system that cannot exchange: a moment without a file. */
	if (rename(sw->path, aside) == 0)
		*kept = 1;
	else if (errno != ENOENT)
		return -1;
	return rename(sw->tmp, sw->path);
}

/*
 * Two daemons given the same database would each take the other's copy
 * for a stranger's file and write theirs back, for ever: repairs that
 * follow each other closely wait longer and longer, and say why.
 */
static void
storewatch_streak(struct storewatch *sw)
{
	int64_t	 now = mono_ms(), wait;

	if (sw->last != 0 && now - sw->last < STOREWATCH_STREAK_MS)
		sw->streak++;
	else
		sw->streak = 0;
	sw->last = now;
	if (sw->streak == 0)
		return;
	wait = (int64_t)STOREWATCH_MS << (sw->streak < 8 ? sw->streak : 8);
	if (wait > STOREWATCH_STREAK_MS)
		wait = STOREWATCH_STREAK_MS;
	sw->pause = now + wait;
	log_warnx("%s: written back %d times in a row, each within %d minutes "
	    "of the last: something keeps removing or replacing it (another "
	    "rtowatchd with the same database?); the next look is in %lld s",
	    sw->path, sw->streak + 1, STOREWATCH_STREAK_MS / 60000,
	    (long long)(wait / 1000));
}

/* The copy is complete: it takes the path, and the store moves to it. */
static void
storewatch_install(struct storewatch *sw, int pages)
{
	struct store	*st = sw->store;
	char		 detail[512], *aside;
	char		 stamp[32], when[TIME_STRLEN];
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 kept;

	if (sqlite3_backup_finish(sw->backup) != SQLITE_OK) {
		sw->backup = NULL;
		storewatch_fail(sw, sw->tmp, sqlite3_errmsg(sw->copy));
		return;
	}
	sw->backup = NULL;
	sqlite3_close(sw->copy);
	sw->copy = NULL;
	if (fsync(sw->fd) == -1) {
		storewatch_fail(sw, "fsync", strerror(errno));
		return;
	}
	close(sw->fd);
	sw->fd = -1;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	xasprintf(&aside, "%s.replaced-%s", sw->path, stamp);
	kept = 0;
	if (storewatch_clear(sw, aside, &kept) == -1 ||
	    storewatch_rename(sw, aside, &kept) == -1) {
		storewatch_fail(sw, "rename", strerror(errno));
		free(aside);
		return;
	}
	free(sw->tmp);
	sw->tmp = NULL;
	if (storewatch_fsync_dir(sw->path) == -1)
		log_warn("%s: fsync of its directory", sw->path);
	if (store_reopen(st) == -1)
		fatalx("%s: cannot open the database just written back; the "
		    "file is complete: start rtowatchd again", sw->path);
	sw->moved = 1;
	storewatch_later(sw, 0);
	memset(sw->id, 0, sizeof(sw->id));
	storewatch_remember(sw, 1);
	sw->failing = 0;
	storewatch_streak(sw);

	snprintf(detail, sizeof(detail), "the database file %s %s while "
	    "rtowatchd was running; the open database (%d pages) was "
	    "written back to it, nothing recorded was lost%s%s", sw->path,
	    sw->why, pages, kept ? "; the file found in its place is kept "
	    "as " : "", kept ? aside : "");
	log_warnx("%s (資料庫檔案已重建) in %lld ms", detail,
	    (long long)(mono_ms() - sw->began));
	if (store_timeline_add(st, &(struct store_event){ .at = wall_ms(),
	    .event = "database file restored", .actor = "rtowatchd",
	    .detail = detail }) == -1)
		log_warnx("%s: the timeline row about it could not be written "
		    "at %s", sw->path, time_fmt(wall_ms(), when,
		    sizeof(when)));
	free(aside);
}

static void
storewatch_step_cb(evutil_socket_t fd, short events, void *arg)
{
	struct storewatch	*sw = arg;
	int			 rc;

	(void)fd;
	(void)events;
	if (sw->moved) {
		store_close_moved(sw->store);
		sw->moved = 0;
		if (sw->backup != NULL)		/* another copy began */
			storewatch_later(sw, 0);
		return;
	}
	/*
	 * Before the last step, the pages so far go to the disk: 40 ms for
	 * 64 MB here, which the fsync in the last step would add to it.
	 */
	if (!sw->synced && sqlite3_backup_pagecount(sw->backup) > 0 &&
	    sqlite3_backup_remaining(sw->backup) <= STOREWATCH_PAGES) {
		if (fsync(sw->fd) == -1) {
			storewatch_fail(sw, "fsync", strerror(errno));
			return;
		}
		sw->synced = 1;
		storewatch_later(sw, 0);
		return;
	}
	/* A transaction left open across turns is finished first. */
	if (!sqlite3_get_autocommit(store_sqlite(sw->store))) {
		storewatch_later(sw, STOREWATCH_RETRY_MS);
		return;
	}
	rc = sqlite3_backup_step(sw->backup, STOREWATCH_PAGES);
	switch (rc) {
	case SQLITE_OK:
		/*
		 * The pages copied so far go to the disk now, without
		 * waiting, so that the one fsync at the end, on the loop,
		 * has little left to do.
		 */
		(void)sync_file_range(sw->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		/* Through the timer heap: the loop polls between steps. */
		storewatch_later(sw, 0);
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		storewatch_later(sw, STOREWATCH_RETRY_MS);
		break;
	case SQLITE_DONE:
		storewatch_install(sw, sqlite3_backup_pagecount(sw->backup));
		break;
	default:
		storewatch_fail(sw, "backup", sqlite3_errstr(rc));
		break;
	}
}

/* Start copying the open database to a new file beside the path. */
static void
storewatch_begin(struct storewatch *sw)
{
	int	 fd;

	xasprintf(&sw->tmp, "%s.rtowatch-XXXXXX", sw->path);
	if ((fd = mkostemp(sw->tmp, O_CLOEXEC)) == -1) {
		free(sw->tmp);
		sw->tmp = NULL;
		storewatch_fail(sw, "a new file beside it", strerror(errno));
		return;
	}
	/* The records are sensitive (5.3.6.4): as database_prepare() has it. */
	(void)fchmod(fd, 0640);
	sw->fd = fd;
	/*
	 * No journal and no syncing in the copy: nobody else knows it, a
	 * copy cut short is thrown away, and one fsync ends it.
	 */
	if (sqlite3_open_v2(sw->tmp, &sw->copy, SQLITE_OPEN_READWRITE,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(sw->copy, "PRAGMA journal_mode = OFF;"
	    "PRAGMA synchronous = OFF;", NULL, NULL, NULL) != SQLITE_OK ||
	    (sw->backup = sqlite3_backup_init(sw->copy, "main",
	    store_sqlite(sw->store), "main")) == NULL) {
		storewatch_fail(sw, sw->tmp, sw->copy != NULL ?
		    sqlite3_errmsg(sw->copy) : "cannot open");
		return;
	}
	sw->began = mono_ms();
	sw->synced = 0;
	if (!sw->failing)
		log_warnx("%s: the database file %s while rtowatchd had it "
		    "open; writing the open database back to it", sw->path,
		    sw->why);
	storewatch_later(sw, 0);
}

static void
storewatch_tick_cb(evutil_socket_t fd, short events, void *arg)
{
	struct storewatch	*sw = arg;
	struct storewatch_id	 now;
	size_t			 i;

	(void)fd;
	(void)events;
	if (sw->backup != NULL || mono_ms() < sw->pause)
		return;
	for (i = 0; i < STOREWATCH_NSIDES; i++) {
		if (!sw->id[i].known)
			continue;	/* never seen: nothing to compare */
		if (!storewatch_stat(sw, i, &now)) {
			if (errno != ENOENT) {
				if (!sw->failing)
					log_warn("%s%s", sw->path,
					    storewatch_sides[i]);
				sw->failing = 1;
				return;
			}
			snprintf(sw->why, sizeof(sw->why), "%s%s",
			    i == 0 ? "was deleted" : "lost its ",
			    storewatch_sides[i]);
			break;
		}
		if (!storewatch_same(&now, &sw->id[i])) {
			snprintf(sw->why, sizeof(sw->why), "%s%s",
			    i == 0 ? "was replaced by another file" :
			    "had another file put as its ",
			    storewatch_sides[i]);
			break;
		}
	}
	if (i == STOREWATCH_NSIDES) {
		storewatch_remember(sw, 0);
		sw->failing = 0;
		return;
	}
	storewatch_begin(sw);
}

/*
 * Called right after store_open(): the files at the path now are the
 * ones the store has open.
 */
struct storewatch *
storewatch_new(struct event_base *base, struct store *st)
{
	struct storewatch	*sw;
	struct timeval		 tv = { STOREWATCH_MS / 1000,
				    (suseconds_t)(STOREWATCH_MS % 1000) * 1000 };

	sw = xcalloc(1, sizeof(*sw));
	sw->store = st;
	sw->fd = -1;
	sw->path = xstrdup(store_path(st));
	storewatch_remember(sw, 1);
	if ((sw->tick = event_new(base, -1, EV_PERSIST, storewatch_tick_cb,
	    sw)) == NULL || (sw->step = evtimer_new(base, storewatch_step_cb,
	    sw)) == NULL)
		fatalx("event_new failed");
	evtimer_add(sw->tick, &tv);
	return sw;
}

void
storewatch_free(struct storewatch *sw)
{
	if (sw == NULL)
		return;
	storewatch_discard(sw);
	event_free(sw->step);
	event_free(sw->tick);
	free(sw->path);
	free(sw);
}
