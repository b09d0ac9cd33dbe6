"""A status bar that never cuts its text: what does not fit is elided ("…"), and the whole
text is in the tooltip. Its permanent labels give way before the message does."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QRect, QSize, Qt
from PySide6.QtGui import QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QStatusBar, QStyle, QStyleOption, QWidget


class ElidedLabel(QWidget):
    """One line of text, elided at the right when narrower than the text; ``text()`` and the
    tooltip keep the whole of it.

    Not a QLabel: a QLabel asks its layout to be redone on every change of text, and a status
    bar answers that by repainting itself whole, labels and all. The timing and unsure labels
    change several times a second while a person draws; here a change that keeps the text's
    width repaints only the label."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        if text == self._text:
            return
        width = self._text_width()
        self._text = text
        self.setToolTip(text)
        if self._text_width() != width:
            self.updateGeometry()
        self.update()

    def _text_width(self) -> int:
        """The text's width in whole pixels, rounded up (the elision compares fractions)."""
        return math.ceil(QFontMetricsF(self.font()).horizontalAdvance(self._text)) if self._text else 0

    def changeEvent(self, ev) -> None:  # noqa: N802 (Qt's name)
        if ev.type() == QEvent.Type.FontChange:
            self.updateGeometry()
        super().changeEvent(ev)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        m = self.contentsMargins()
        return QSize(self._text_width() + m.left() + m.right(), self.fontMetrics().height() + m.top() + m.bottom())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(self.fontMetrics().horizontalAdvance("…") + 20, self.sizeHint().height())

    def shown_text(self) -> str:
        """What is painted at the current width."""
        m = self.contentsMargins()
        width = self.width() - m.left() - m.right()
        return self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, max(0, width))

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

    def _labels(self) -> list[ElidedLabel]:
        return [w for w in self.findChildren(ElidedLabel) if w.parent() is self]

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
