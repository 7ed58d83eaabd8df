#!/usr/bin/env python3
"""Lists C++ functions longer than a limit (default 60 lines, body braces included).

Usage: scripts/check-function-length.py [--max N] [DIR_OR_FILE ...]   (default: internal)
Exits 1 when a function is longer. A heuristic, not a parser: a function starts at
a line that closes a parameter list and opens a brace at namespace or class level
(not a class, struct, enum, namespace or initializer), and ends at its matching
brace. Lambdas count toward the function that holds them.
"""
import os
import re
import sys

NOT_FUNCTION = re.compile(r'^\s*(namespace|class|struct|enum|union|extern|template\s*<[^>]*>\s*(class|struct))\b')


def strip(line, in_comment):
    """The line without comments, string and character literals; and whether a /* comment goes on."""
    out, i = [], 0
    while i < len(line):
        if in_comment:
            end = line.find('*/', i)
            if end < 0:
                return ''.join(out), True
            i, in_comment = end + 2, False
        elif line.startswith('//', i):
            break
        elif line.startswith('/*', i):
            in_comment, i = True, i + 2
        elif line[i] in '"\'':
            if line[i] == '"' and i > 0 and line[i - 1] == 'R':  # raw string: skip to its end
                m = re.match(r'R"([^(]*)\(', line[i - 1:])
                if m:
                    end = line.find(')' + m.group(1) + '"', i)
                    if end < 0:
                        return ''.join(out), 'raw:' + m.group(1)
                    i = end + len(m.group(1)) + 2
                    continue
            quote, i = line[i], i + 1
            while i < len(line) and line[i] != quote:
                i += 2 if line[i] == '\\' else 1
            i += 1
        else:
            out.append(line[i])
            i += 1
    return ''.join(out), in_comment


def opens_function(head):
    """Whether the code gathered since the last statement ends a function's signature."""
    before_brace = head[:head.rfind('{')] if '{' in head else head
    statement = head.split(';')[-1].split('}')[-1]
    return (re.search(r'\)[^;{}()]*$', before_brace) is not None
            and not NOT_FUNCTION.match(statement) and '=' not in head.split(')')[-1])


def functions(path):
    """(name line, first line number, length) of each function defined in `path`."""
    depth, start, start_depth, head = 0, None, 0, ''
    in_comment, found = False, []
    with open(path, encoding='utf-8', errors='replace') as f:
        lines = f.readlines()
    for number, raw in enumerate(lines, 1):
        if isinstance(in_comment, str):  # inside a multi-line raw string
            if (')' + in_comment[4:] + '"') in raw:
                in_comment = False
            continue
        code, in_comment = strip(raw, in_comment)
        if start is None:
            head = (head + ' ' + code.strip())[-400:] if code.strip() else head
        for ch in code:
            if ch == '{':
                if start is None and opens_function(head):
                    start, start_depth = number, depth
                depth += 1
            elif ch == '}':
                depth -= 1
                if start is not None and depth == start_depth:
                    found.append((lines[start - 1].strip(), start, number - start + 1))
                    start = None
        if code.strip().endswith((';', '}', '{')) or code.strip().startswith('#'):
            head = ''
    return found


def main(argv):
    limit, roots = 60, []
    it = iter(argv)
    for arg in it:
        if arg == '--max':
            limit = int(next(it))
        else:
            roots.append(arg)
    paths = []
    for root in roots or ['internal']:
        if os.path.isfile(root):
            paths.append(root)
        for dirpath, _, names in os.walk(root):
            paths += [os.path.join(dirpath, n) for n in sorted(names) if n.endswith(('.cpp', '.hpp', '.h', '.cc'))]
    long_ones = [(p, line, n, text) for p in paths for text, line, n in functions(p) if n > limit]
    for path, line, n, text in sorted(long_ones, key=lambda x: -x[2]):
        print(f'{path}:{line}: {n} lines: {text[:90]}')
    return 1 if long_ones else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
