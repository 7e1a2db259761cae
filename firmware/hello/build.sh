#!/bin/sh
# Rebuild hello.elf (committed so the README's first command works without a cross compiler).
set -e
cd "$(dirname "$0")"
riscv64-unknown-elf-gcc -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany -ffreestanding -nostdlib \
  -Wl,--no-warn-rwx-segments -T link.ld start.S hello.c -o hello.elf
