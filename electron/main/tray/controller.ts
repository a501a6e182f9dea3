import { Menu, type MenuItemConstructorOptions, type NativeImage, Tray, nativeImage } from 'electron';
import { type TrayIconState, trayIconPath } from './icons.js';
import { type TrayAction, type TrayMenuItem, type TrayState, buildTrayMenu, trayIconState, trayTooltip } from './menu.js';

export interface TrayControllerOptions {
  /** where the tray-*.png images are (build/tray, or resources/tray when packaged) */
  iconDirectory: string;
  platform: NodeJS.Platform;
  onAction: (action: TrayAction) => void;
  /** told when an image is missing: a packaging mistake, worth a log line */
  onMissingImage?: (path: string) => void;
}

/**
 * Owns the Tray. `update(state)` renders the pure menu and icon for a state and touches Electron
 * only when the result differs from what is shown, so a stream of unrelated state updates (every
 * request refreshes key usage) costs a string comparison.
 */
export class TrayController {
  private tray: Tray | undefined;
  private shown = { signature: '', icon: undefined as TrayIconState | undefined };
  private readonly images = new Map<TrayIconState, NativeImage>();

  constructor(private readonly options: TrayControllerOptions) {}

  /** Renders the state; returns whether anything had to change. */
  update(state: TrayState): boolean {
    const menu = buildTrayMenu(state);
    const icon = trayIconState(state);
    const tooltip = trayTooltip(state);
    const signature = JSON.stringify([menu, icon, tooltip]);
    if (signature === this.shown.signature) return false;

    if (!this.tray) {
      this.tray = new Tray(this.image(icon));
      // Windows users expect a left click to open the app; the menu stays on the right button.
      if (this.options.platform === 'win32') this.tray.on('click', () => this.options.onAction({ type: 'open' }));
    } else if (icon !== this.shown.icon) {
      this.tray.setImage(this.image(icon));
    }
    this.tray.setToolTip(tooltip);
    // Linux reads the menu only when it is set, so it is set again on every change.
    this.tray.setContextMenu(Menu.buildFromTemplate(toMenuTemplate(menu, this.options.onAction)));
    this.shown = { signature, icon };
    return true;
  }

  destroy(): void {
    this.tray?.destroy();
    this.tray = undefined;
    this.shown = { signature: '', icon: undefined };
  }

  private image(state: TrayIconState): NativeImage {
    let image = this.images.get(state);
    if (!image) {
      const path = trayIconPath(this.options.iconDirectory, state, this.options.platform);
      image = nativeImage.createFromPath(path);
      if (image.isEmpty()) this.options.onMissingImage?.(path);
      if (this.options.platform === 'darwin') image.setTemplateImage(true);
      this.images.set(state, image);
    }
    return image;
  }
}

/** The plain template, as Electron wants it: each action becomes a click handler. */
function toMenuTemplate(items: TrayMenuItem[], onAction: (action: TrayAction) => void): MenuItemConstructorOptions[] {
  return items.map(({ action, ...item }) => (action ? { ...item, click: () => onAction(action) } : item));
}
