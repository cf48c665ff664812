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
      // Drawn as large as its box allows, from the top left (the box may be wider than tall).
      (text) => live && setSvg(text.replace('<svg ', '<svg preserveAspectRatio="xMinYMin meet" ')),
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
      className={cx('[&>svg]:block [&>svg]:h-full [&>svg]:w-full', !svg && 'animate-pulse rounded-xl bg-slate-100', className)}
      // The SVG is generated locally from our own link by the qrcode package.
      dangerouslySetInnerHTML={svg ? { __html: svg } : undefined}
    />
  );
}
