#!/usr/bin/env python3
# Records what dash (/bin/sh on Debian) prints for each script in dash_cases.txt, run once in an
# empty temp dir, and writes sim/src/shell/tests/dash_cases.rs with the expected bytes hard-coded.
# Run by hand when adding cases (`python3 sim/tools/record_dash_cases.py`); tests never run a shell.
import subprocess, tempfile, os, sys, re
HERE = os.path.dirname(os.path.abspath(__file__))
src = open(os.path.join(HERE, 'dash_cases.txt')).read()
cases = []
for block in src.split('### ')[1:]:
    name, _, script = block.partition('\n')
    script = script.rstrip('\n')
    cases.append((name.strip(), script))
def rs(s):
    # raw string literal with enough hashes
    n = 1
    while ('"' + '#'*n) in s: n += 1
    return 'r' + '#'*n + '"' + s + '"' + '#'*n
out = ['//! Expected outputs recorded once from dash (/bin/sh on Debian) by running each script in an',
       '//! empty temp dir; the tests compare the in-process shell against them (no real shell runs).',
       '', 'use super::dash_case;', '']
for name, script in cases:
    d = tempfile.mkdtemp()
    env = {'HOME': '/root', 'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C.UTF-8', 'USER': 'root', 'LOGNAME': 'root'}
    p = subprocess.run(['sh', '-c', script], cwd=d, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    so = p.stdout.decode(); se = p.stderr.decode()
    out.append(f'dash_case!({name}, {rs(script)}, {rs(so)}, {rs(se)}, {p.returncode});')
open(os.path.join(HERE, '..', 'src', 'shell', 'tests', 'dash_cases.rs'), 'w').write('\n'.join(out) + '\n')
print(len(cases))
