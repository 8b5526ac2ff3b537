// The two facts the plugin bundle needs from an ELF file, read from its program headers the way the dynamic loader
// does: the interpreter an executable asks for (PT_INTERP) and the name a shared library is looked up by
// (DT_SONAME). Pure: bytes in, strings out; 32- and 64-bit, either byte order.

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_STRTAB = 5;
const DT_SONAME = 14;

/** The bytes are not an ELF file, or one whose headers point outside the bytes given. */
export class ElfError extends Error {
  readonly code = 'ERR_CNI_BUNDLE_ELF';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ElfError';
  }
}

interface ProgramHeader {
  readonly type: number;
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
}

interface ElfView {
  readonly wide: boolean;
  readonly header: (offset: number, size: 2 | 4 | 8) => number;
  readonly programs: readonly ProgramHeader[];
  readonly cString: (offset: number) => string;
}

function view(bytes: Uint8Array, file: string): ElfView {
  if (bytes.length < 52 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError(file, 'not an ELF file');
  }
  const wide = bytes[4] === 2;
  if (bytes[4] !== 1 && !wide) throw new ElfError(file, `unknown ELF class ${String(bytes[4])}`);
  const little = bytes[5] === 1;
  if (bytes[5] !== 1 && bytes[5] !== 2) throw new ElfError(file, `unknown ELF byte order ${String(bytes[5])}`);
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = (offset: number, size: 2 | 4 | 8): number => {
    if (offset < 0 || offset + size > bytes.length) throw new ElfError(file, `truncated: needs byte ${offset + size}, has ${bytes.length}`);
    if (size === 2) return data.getUint16(offset, little);
    if (size === 4) return data.getUint32(offset, little);
    return Number(data.getBigUint64(offset, little));
  };
  const word: 4 | 8 = wide ? 8 : 4;
  const phoff = header(wide ? 0x20 : 0x1c, word);
  const phentsize = header(wide ? 0x36 : 0x2a, 2);
  const phnum = header(wide ? 0x38 : 0x2c, 2);
  const programs: ProgramHeader[] = [];
  for (let i = 0; i < phnum; i += 1) {
    const at = phoff + i * phentsize;
    // Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz…; Elf32_Phdr: type, offset, vaddr, paddr, filesz, …
    programs.push(
      wide
        ? { type: header(at, 4), offset: header(at + 8, 8), vaddr: header(at + 16, 8), filesz: header(at + 32, 8) }
        : { type: header(at, 4), offset: header(at + 4, 4), vaddr: header(at + 8, 4), filesz: header(at + 16, 4) },
    );
  }
  const cString = (offset: number): string => {
    const end = bytes.indexOf(0, offset);
    if (offset < 0 || offset >= bytes.length || end === -1) throw new ElfError(file, `truncated: string at byte ${offset}`);
    return Buffer.from(bytes.subarray(offset, end)).toString('utf8');
  };
  return { wide, header, programs, cString };
}

/**
 * The dynamic loader an executable names in PT_INTERP (`/lib64/ld-linux-x86-64.so.2`), or undefined for a static
 * executable. Needs only the first pages of the file; throws {@link ElfError} when the bytes given are too few.
 */
export function elfInterpreter(bytes: Uint8Array, file = 'ELF file'): string | undefined {
  const elf = view(bytes, file);
  const interp = elf.programs.find((program) => program.type === PT_INTERP);
  return interp === undefined ? undefined : elf.cString(interp.offset);
}

/** The DT_SONAME of a shared library (`libstdc++.so.6` for `libstdc++.so.6.0.30`), or undefined when it has none. */
export function elfSoname(bytes: Uint8Array, file = 'ELF file'): string | undefined {
  const elf = view(bytes, file);
  const dynamic = elf.programs.find((program) => program.type === PT_DYNAMIC);
  if (dynamic === undefined) return undefined;
  const entrySize = elf.wide ? 16 : 8;
  const word: 4 | 8 = elf.wide ? 8 : 4;
  let strtab: number | undefined;
  let soname: number | undefined;
  for (let at = dynamic.offset; at + entrySize <= dynamic.offset + dynamic.filesz; at += entrySize) {
    const tag = elf.header(at, word);
    if (tag === DT_NULL) break;
    if (tag === DT_STRTAB) strtab = elf.header(at + word, word);
    if (tag === DT_SONAME) soname = elf.header(at + word, word);
  }
  if (soname === undefined) return undefined;
  if (strtab === undefined) throw new ElfError(file, 'DT_SONAME without DT_STRTAB');
  // DT_STRTAB is a virtual address: map it to a file offset through the PT_LOAD segment that holds it.
  const address = strtab;
  const segment = elf.programs.find((p) => p.type === PT_LOAD && p.vaddr <= address && address < p.vaddr + p.filesz);
  if (segment === undefined) throw new ElfError(file, 'DT_STRTAB outside every loaded segment');
  return elf.cString(address - segment.vaddr + segment.offset + soname);
}
