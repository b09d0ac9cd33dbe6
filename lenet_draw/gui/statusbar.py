"""A status bar that never cuts its text: what does not fit is elided ("…"), and the whole
text is in the tooltip. Its permanent labels give way before the message does."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QStyle, QStyleOption, QWidget


class ElidedLabel(QLabel):
    """One line of text, elided at the right when narrower than the text; ``text()`` and the
    tooltip keep the whole of it."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("…") + 20, super().minimumSizeHint().height())

    def shown_text(self) -> str:
        """What is painted at the current width."""
        m = self.contentsMargins()
        width = self.width() - m.left() - m.right()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, max(0, width))

    def paintEvent(self, ev: QPaintEvent) -> None:
        p = QPainter(self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.shown_text())
        p.end()


class StatusBar(QStatusBar):
    """QStatusBar whose temporary message is elided to the room left of the permanent labels
    (Qt cuts it off), with the whole message in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.messageChanged.connect(self._on_message)
        self._plain_tip = ""

    def _labels(self) -> list[QLabel]:
        return [w for w in self.findChildren(QLabel) if w.parent() is self]

    def _on_message(self, text: str) -> None:
        self.setToolTip(text or self._plain_tip)
        self._share()

    def _share(self) -> None:
        """While a message shows and does not fit beside the permanent labels, the labels give
        up room (elided, whole in their tooltips) until the message has half the bar."""
        labels = self._labels()
        message = self.currentMessage()
        cap = 16777215
        if message and labels:
            needed = self.fontMetrics().horizontalAdvance(message) + 16
            if needed + sum(label.sizeHint().width() for label in labels) > self.width():
                cap = max(60, (self.width() - min(needed, self.width() // 2)) // len(labels))
        for label in labels:
            label.setMaximumWidth(cap)

    def resizeEvent(self, ev) -> None:
        super().resizeEvent(ev)
        if self.currentMessage():
            self._share()

    def message_rect(self) -> QRect:
        right = self.width() - 4
        for w in self._labels():
            if w.isVisible():
                right = min(right, w.geometry().left() - 4)
        return QRect(6, 0, max(0, right - 6), self.height())

    def shown_message(self) -> str:
        return self.fontMetrics().elidedText(
            self.currentMessage(), Qt.TextElideMode.ElideRight, self.message_rect().width()
        )

    def paintEvent(self, ev: QPaintEvent) -> None:
        if not self.currentMessage():
            super().paintEvent(ev)
            return
        p = QPainter(self)
        opt = QStyleOption()
        opt.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, opt, p, self)
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(
            self.message_rect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.shown_message()
        )
        p.end()
