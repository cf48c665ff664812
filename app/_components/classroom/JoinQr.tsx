'use client';

import { useEffect, useState } from 'react';
import QRCode from 'qrcode';
import { cx } from '../ui';
import { QR_OPTIONS } from './qr';

/** A QR code (SVG, from the qrcode package) of `link`, in a fixed square so nothing shifts while it renders. */
export function JoinQr({ link, label, className }: { link: string; label: string; className?: string }) {
  const [svg, setSvg] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toString(link, QR_OPTIONS).then(
      (text) => live && setSvg(text),
      () => live && setSvg(null),
    );
    return () => {
      live = false;
    };
  }, [link]);
  return (
    <div
      role="img"
      aria-label={label}
      data-testid="join-qr"
      data-link={link}
      className={cx('aspect-square bg-white [&>svg]:block [&>svg]:h-full [&>svg]:w-full', !svg && 'animate-pulse bg-slate-100', className)}
      // The SVG is generated locally from our own link by the qrcode package.
      dangerouslySetInnerHTML={svg ? { __html: svg } : undefined}
    />
  );
}
