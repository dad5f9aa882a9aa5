/*
 * test_text.c: the CLI's pure text helpers: display width of CJK text,
 * cutting to a width, and quoting for CSV (RFC 4180), HTML and Markdown.
 */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../cli/text.h"

static int
setup(void **state)
{
	(void)state;
	/* Display widths need a UTF-8 locale; C.UTF-8 is always there. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		return -1;
	return 0;
}

static void
check(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_width_counts_cjk_as_two(void **state)
{
	(void)state;
	assert_int_equal(text_width("mail", 1), 4);
	assert_int_equal(text_width("圖書館系統", 1), 10);
	assert_int_equal(text_width("第2級（注意）", 1), 13);
	assert_int_equal(text_width("", 1), 0);
	/* Outside UTF-8, bytes. */
	assert_int_equal(text_width("圖書", 0), 6);
	/* Invalid UTF-8 falls back to bytes rather than failing. */
	assert_int_equal(text_width("a\xff", 1), 2);
}

static void
test_truncate_keeps_whole_characters(void **state)
{
	(void)state;
	check(text_truncate("圖書館系統", 10, 1), "圖書館系統");
	/* 7 columns: three CJK (6) would leave none for the ellipsis. */
	check(text_truncate("圖書館系統", 7, 1), "圖書館\xe2\x80\xa6");
	check(text_truncate("圖書館系統", 6, 1), "圖書\xe2\x80\xa6");
	check(text_truncate("library", 5, 1), "libr\xe2\x80\xa6");
	check(text_truncate("library", 5, 0), "libr~");
	check(text_truncate("abc", 1, 1), "\xe2\x80\xa6");
	check(text_truncate("abc", 0, 1), "");
}

static void
test_csv_quotes_only_when_needed(void **state)
{
	(void)state;
	check(text_csv("plain"), "plain");
	check(text_csv(""), "");
	check(text_csv("圖書館系統"), "圖書館系統");
	check(text_csv("a,b"), "\"a,b\"");
	check(text_csv("say \"hi\""), "\"say \"\"hi\"\"\"");
	check(text_csv("two\r\nlines"), "\"two\r\nlines\"");
	check(text_csv("\""), "\"\"\"\"");
}

static void
test_html_escapes_markup(void **state)
{
	(void)state;
	check(text_html("<script>alert('x') & \"y\"</script>"),
	    "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;"
	    "&lt;/script&gt;");
	check(text_html("圖書館"), "圖書館");
}

static void
test_md_escapes_inline_markup(void **state)
{
	(void)state;
	check(text_md("a|b *c* _d_ `e` [f](g) <h>"),
	    "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\>");
	check(text_md("line\r\nnext"), "line<br>next");
	check(text_md("2026-11-26 (一般)"), "2026-11-26 (一般)");
}

static void
test_mend_for_terminal_and_json(void **state)
{
	(void)state;
	check(text_mend("ok\x1b[31m\n", 1, 1), "ok\\x1b[31m\\n");
	check(text_mend("bad\xff", 0, 1), "bad\xef\xbf\xbd");
	check(text_mend("bad\xff", 1, 1), "bad\\xff");
	check(text_mend("圖書\t", 1, 1), "圖書\\t");
	/* C1 controls (U+0085) are escaped on a terminal too. */
	check(text_mend("a\xc2\x85", 1, 1), "a\\x85");
}

static void
test_utf8_seq_rejects_overlong_and_surrogates(void **state)
{
	uint32_t	 cp;

	(void)state;
	assert_int_equal(text_utf8_seq((const unsigned char *)"\xe5\x9c\x96",
	    &cp), 3);
	assert_int_equal(cp, 0x5716);
	assert_int_equal(text_utf8_seq((const unsigned char *)"\xc0\xaf",
	    &cp), 0);
	assert_int_equal(text_utf8_seq((const unsigned char *)"\xed\xa0\x80",
	    &cp), 0);
	assert_int_equal(text_utf8_seq((const unsigned char *)"\xf4\x90\x80"
	    "\x80", &cp), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width_counts_cjk_as_two),
		cmocka_unit_test(test_truncate_keeps_whole_characters),
		cmocka_unit_test(test_csv_quotes_only_when_needed),
		cmocka_unit_test(test_html_escapes_markup),
		cmocka_unit_test(test_md_escapes_inline_markup),
		cmocka_unit_test(test_mend_for_terminal_and_json),
		cmocka_unit_test(test_utf8_seq_rejects_overlong_and_surrogates),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
