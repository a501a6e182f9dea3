import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/** A QR code as an SVG data URL (the page's policy allows data: images, not inline markup). */
export function QrCode({ text, label, size = 112 }: { text: string; label: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toString(text, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
      .then((svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [text]);
  return src ? <img className="qr" src={src} alt={label} width={size} height={size} /> : null;
}
