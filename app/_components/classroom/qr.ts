import type { QRCodeToStringOptions } from 'qrcode';

/**
 * How join links are drawn as QR codes (also used by the e2e test to check what the projector
 * shows encodes the link). Level M survives a projector's glare and a phone's angle; the quiet
 * zone keeps scanners happy at the edge of a slide.
 */
export const QR_OPTIONS: QRCodeToStringOptions = {
  type: 'svg',
  errorCorrectionLevel: 'M',
  margin: 2,
  color: { dark: '#0f172a', light: '#ffffff' },
};
