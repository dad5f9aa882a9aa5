"""The webhook statements, as an administrator meets them.

`rtowatchd -n` accepts a complete setup (a tell line naming a webhook
beside a contact), and names at its own line each mistake: an unknown
format, a URL that is not http(s), a secret file others may read, a
generic webhook without a secret, a webhook defined twice, and a tell
line naming a webhook the rules do not define.  The secret is never
printed.
"""
import os

from conftest import errors_at, parse_errors, rules_check

SECRET = "do-not-print-this-secret"


def write(workdir, hooks, tell='tell "unit-head" webhook "ims" for levels '
          '1-4', mode=0o600):
    key = workdir / "hook.key"
    key.write_text(SECRET + "\n")
    os.chmod(key, mode)
    path = workdir / "r.conf"
    path.write_text(
        f'set database "{workdir}/r.db"\n'
        "policy {\n"
        "    notify within 1h\n"
        "    restore within 1h for levels 1-4\n"
        "    report within 1d for levels 3-4\n"
        "    retention 3 years\n"
        f"    {tell}\n"                                       # line 7
        "}\n"
        'system "s" { core yes; rto 1h; '
        "check tcp 127.0.0.1 port 1 every 1s }\n"
        + hooks.replace("KEY", str(key)))                     # line 10
    return path


def test_complete_setup_is_ok(workdir):
    path = write(workdir,
                 'webhook "ims" url "https://hooks.example.org/services/x" '
                 'format slack secret-file "KEY"\n'
                 'webhook "soc" url "https://192.0.2.10:8443/rtowatch" '
                 'secret-file "KEY"\n',
                 tell='tell "unit-head" webhook "ims" webhook "soc" '
                 'for levels 1-4')
    rc, out, err = rules_check(path)
    assert rc == 0, err
    assert out.strip() == "configuration OK"


def test_mistakes_each_reported_at_their_line(workdir):
    path = write(workdir,
                 'webhook "ims" url "https://hooks.example.org/x" '
                 'format discord secret-file "KEY"\n'         # 10
                 'webhook "ftp" url "ftp://192.0.2.1/x" format slack\n'
                 'webhook "plain" url "https://192.0.2.2/x"\n'
                 'webhook "ims" url "https://192.0.2.3/x" format teams\n'
                 'webhook "nourl" format matrix\n',           # 14
                 tell='tell "unit-head" webhook "ims" webhook "nope" '
                 'for levels 1-4')
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    errors = parse_errors(err)

    def at(line, *words):
        msgs = errors_at(errors, path, line)
        assert any(all(w in m for w in words) for m in msgs), \
            (line, words, err)
    at(10, "discord", "generic, slack, teams or matrix")
    at(11, "ftp://", "https://")
    at(12, '"plain"', "secret-file")
    at(13, 'duplicate webhook "ims"')
    at(14, '"nourl"', "missing url")
    at(7, '"nope"', "no webhook")
    assert SECRET not in err and SECRET not in out


def test_secret_readable_by_others_refused(workdir):
    path = write(workdir, 'webhook "ims" url "https://192.0.2.1/hook" '
                 'secret-file "KEY"\n', mode=0o644)
    rc, out, err = rules_check(path)
    assert rc == 1, (out, err)
    msgs = errors_at(parse_errors(err), path, 10)
    assert msgs and "0644" in msgs[0] and "chmod 600" in msgs[0], err
    assert SECRET not in err and SECRET not in out
