import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

import { elfInterpreter, elfSoname, ElfError } from './elf';
import { mappedSharedLibraries } from './plugin-bundle';

interface Image {
  readonly wide: boolean;
  readonly little: boolean;
  readonly interp?: string;
  readonly soname?: string;
  /** Point DT_STRTAB at an address no PT_LOAD covers. */
  readonly strtabOutside?: boolean;
}

const BASE = 0x400000;

/** A minimal ELF image: PT_INTERP, one PT_LOAD over the whole file, and PT_DYNAMIC with DT_STRTAB/DT_SONAME. */
function elfImage(image: Image): Uint8Array {
  const word = image.wide ? 8 : 4;
  const ehsize = image.wide ? 64 : 52;
  const phentsize = image.wide ? 56 : 32;
  const programs: { type: number; offset: number; filesz: number }[] = [];
  const phoff = ehsize;
  const data = phoff + 3 * phentsize;
  const interpAt = data;
  const strtabAt = data + 64;
  const dynamicAt = strtabAt + 64;
  const total = dynamicAt + 4 * 2 * word;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const put = (at: number, size: 2 | 4 | 8, value: number): void => {
    if (size === 2) view.setUint16(at, value, image.little);
    else if (size === 4) view.setUint32(at, value, image.little);
    else view.setBigUint64(at, BigInt(value), image.little);
  };
  bytes.set([0x7f, 0x45, 0x4c, 0x46, image.wide ? 2 : 1, image.little ? 1 : 2, 1]);
  put(image.wide ? 0x20 : 0x1c, word === 8 ? 8 : 4, phoff);
  put(image.wide ? 0x36 : 0x2a, 2, phentsize);
  if (image.interp !== undefined) {
    bytes.set(Buffer.from(`${image.interp}\0`), interpAt);
    programs.push({ type: 3, offset: interpAt, filesz: image.interp.length + 1 });
  }
  programs.push({ type: 1, offset: 0, filesz: total });
  if (image.soname !== undefined) {
    bytes.set(Buffer.from(`\0${image.soname}\0`), strtabAt);
    const entries: [number, number][] = [
      [5, (image.strtabOutside === true ? BASE * 2 : BASE) + strtabAt],
      [14, 1],
      [0, 0],
    ];
    entries.forEach(([tag, value], i) => {
      put(dynamicAt + i * 2 * word, word === 8 ? 8 : 4, tag);
      put(dynamicAt + i * 2 * word + word, word === 8 ? 8 : 4, value);
    });
    programs.push({ type: 2, offset: dynamicAt, filesz: 4 * 2 * word });
  }
  put(image.wide ? 0x38 : 0x2c, 2, programs.length);
  programs.forEach((program, i) => {
    const at = phoff + i * phentsize;
    const size = word === 8 ? 8 : 4;
    put(at, 4, program.type);
    if (image.wide) {
      put(at + 8, size, program.offset);
      put(at + 16, size, BASE + program.offset);
      put(at + 32, size, program.filesz);
    } else {
      put(at + 4, size, program.offset);
      put(at + 8, size, BASE + program.offset);
      put(at + 16, size, program.filesz);
    }
  });
  return bytes;
}

describe('elfInterpreter and elfSoname', () => {
  it.each([
    { name: '64-bit little-endian', image: { wide: true, little: true, interp: '/lib64/ld-linux-x86-64.so.2', soname: 'libstdc++.so.6' } },
    { name: '64-bit big-endian', image: { wide: true, little: false, interp: '/lib/ld64.so.1', soname: 'libc.so.6' } },
    { name: '32-bit little-endian', image: { wide: false, little: true, interp: '/lib/ld-linux-armhf.so.3', soname: 'libm.so.6' } },
    { name: '32-bit big-endian', image: { wide: false, little: false, interp: '/lib/ld.so.1', soname: 'libgcc_s.so.1' } },
  ])('reads PT_INTERP and DT_SONAME: $name', ({ image }) => {
    const bytes = elfImage(image);
    expect(elfInterpreter(bytes)).toBe(image.interp);
    expect(elfSoname(bytes)).toBe(image.soname);
  });

  it.each([
    { name: 'a static executable has no interpreter', image: { wide: true, little: true }, interp: undefined, soname: undefined },
    { name: 'a library without DT_SONAME', image: { wide: true, little: true, interp: '/lib/ld.so' }, interp: '/lib/ld.so', soname: undefined },
  ])('$name', ({ image, interp, soname }) => {
    expect(elfInterpreter(elfImage(image))).toBe(interp);
    expect(elfSoname(elfImage(image))).toBe(soname);
  });

  it.each([
    { name: 'not ELF', bytes: Buffer.from('#!/bin/sh\nexec true\n'.padEnd(64, ' ')), reason: /x: not an ELF file/ },
    { name: 'cut before its strings', bytes: elfImage({ wide: true, little: true, interp: '/lib64/ld-linux-x86-64.so.2' }).subarray(0, 64 + 3 * 56 + 4), reason: /truncated/ },
    { name: 'cut inside its program headers', bytes: elfImage({ wide: true, little: true, interp: '/lib/ld.so' }).subarray(0, 80), reason: /truncated/ },
    { name: 'an unknown class', bytes: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 3, 1, ...new Array<number>(58).fill(0)]), reason: /unknown ELF class 3/ },
  ])('refuses a file that is $name', ({ bytes, reason }) => {
    expect(() => elfInterpreter(bytes, 'x')).toThrow(ElfError);
    expect(() => elfInterpreter(bytes, 'x')).toThrow(reason);
  });

  it('refuses a string table outside every loaded segment', () => {
    expect(() => elfSoname(elfImage({ wide: true, little: true, soname: 'libx.so.1', strtabOutside: true }), 'x')).toThrow(/DT_STRTAB outside/);
  });

  it("this process's Node names a loader, and every library it has mapped has a soname", () => {
    const head = Buffer.alloc(64 * 1024);
    const fd = openSync(process.execPath, 'r');
    const read = readSync(fd, head, 0, head.length, 0);
    closeSync(fd);
    expect(elfInterpreter(head.subarray(0, read))).toMatch(/^\/.*\/ld-[^/]+\.so\.\d+$/);
    const { libraries } = mappedSharedLibraries(readFileSync('/proc/self/maps', 'utf8'));
    const sonames = libraries.map((library) => elfSoname(readFileSync(library), library));
    expect(sonames).toContain('libc.so.6');
    expect(sonames.every((soname) => soname !== undefined)).toBe(true);
  });
});
