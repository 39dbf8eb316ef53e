/**
 * The Windows .ico container: an ICONDIR header, one 16-byte entry per image,
 * then the images. Each image is stored as a PNG, which Windows reads at
 * every size since Vista. Reading is for the tests that check the committed
 * icons.
 */

export interface IcoImage {
  size: number;
  png: Buffer;
}

export function writeIco(images: IcoImage[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(images.length, 4);
  const entries: Buffer[] = [];
  let offset = 6 + 16 * images.length;
  for (const { size, png } of images) {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0); // 0 means 256
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt8(0, 2); // no palette
    entry.writeUInt8(0, 3);
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    entries.push(entry);
  }
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

export interface IcoEntry {
  width: number;
  height: number;
  bitsPerPixel: number;
  bytes: number;
  offset: number;
}

/** The directory of an .ico file; throws when the header is not an icon's. */
export function readIcoDirectory(data: Buffer): IcoEntry[] {
  if (data.length < 6 || data.readUInt16LE(0) !== 0 || data.readUInt16LE(2) !== 1) throw new Error('not an .ico file');
  const count = data.readUInt16LE(4);
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + 16 * i;
    entries.push({
      width: data.readUInt8(at) || 256,
      height: data.readUInt8(at + 1) || 256,
      bitsPerPixel: data.readUInt16LE(at + 6),
      bytes: data.readUInt32LE(at + 8),
      offset: data.readUInt32LE(at + 12),
    });
  }
  return entries;
}
