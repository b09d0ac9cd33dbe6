"""Number mode, driven with real mouse events: write a number in the wide pad, see it read,
click a digit, undo, switch modes."""

import numpy as np
import pytest
from guihelpers import assert_views_show, on_screen, pixels, settle
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QToolButton

from lenet_draw.gui.testing import DIGIT_STROKES, draw_stroke, draw_strokes, send_mouse


def placed(d, x):
    """The sample drawing of ``d`` squeezed into a 0.7-wide cell starting at pad x."""
    return [[(x + px * 0.7, py) for px, py in s] for s in DIGIT_STROKES[d]]


def write(window, qtbot, text, start=0.2, step=0.75):
    """Each stroke as one burst of mouse events (the live update is tested on its own)."""
    for k, ch in enumerate(text):
        draw_strokes(window.canvas, placed(int(ch), start + k * step), process_every=None)
        settle(qtbot, window)


def click_pad(window, x, y):
    pos = window.canvas.to_widget(x, y)
    send_mouse(window.canvas, QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    send_mouse(window.canvas, QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)


def toolbar_button(window, action):
    return next(b for b in window.modes_toolbar.findChildren(QToolButton) if b.defaultAction() is action)


def digit_prediction(window, index):
    """What a fresh engine says about the ink of digit ``index`` of the number shown."""
    from lenet_draw.engine import Engine
    from lenet_draw.gui.canvas import PEN_WIDTH

    strokes = window.number_mode.reading.digits[index].strokes
    return Engine(window.engine.weights, device="cpu").predict_strokes(strokes, pen_width=PEN_WIDTH)


@pytest.fixture
def number_window(window, qtbot):
    qtbot.mouseClick(toolbar_button(window, window.number_action), Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    return window


def test_the_toolbar_switches_to_a_wide_pad_and_it_is_remembered(number_window, settings, qtbot, fresh_engine):
    w = number_window
    r = w.canvas.pad_rect()
    assert r.width() / r.height() == pytest.approx(4.0, rel=0.01)
    assert w.number_mode.strip.isVisible()
    assert w.number_action.isChecked()

    from lenet_draw.gui.main_window import MainWindow

    again = MainWindow(fresh_engine, settings=settings)
    qtbot.addWidget(again)
    assert again.number_action.isChecked() and again.canvas.aspect == 4.0


def test_writing_a_number_shows_it_with_each_digit(number_window, qtbot):
    w = number_window
    write(w, qtbot, "4207")
    strip = w.number_mode.strip
    assert strip.number.text() == "4207"
    shown = strip.shown_digits()
    # each digit as read, with "?" where the reading is unsure (as in digit mode)
    assert [s.split()[0].rstrip("?") for s in shown] == ["4", "2", "0", "7"]
    assert all(s.endswith("%") for s in shown)
    # The panels show the digit written last, as digit mode would read its ink.
    assert w.number_mode.selected == 3
    assert_views_show(w, digit_prediction(w, 3))


def test_the_number_updates_while_the_stroke_is_drawn(number_window, qtbot):
    w = number_window
    write(w, qtbot, "5")
    seen = []

    def look(i):
        if i % 10 == 9:
            w.predict_now()
            seen.append(w.number_mode.strip.number.text())

    draw_stroke(w.canvas, placed(1, 0.95)[0], on_move=look)
    settle(qtbot, w)
    assert seen and all(t.startswith("5") for t in seen)
    assert any(len(t) == 2 for t in seen)  # the second digit shows before the pen is lifted
    assert w.number_mode.strip.number.text() == "51"


def test_while_writing_the_number_is_painted_before_the_panels_take_its_digit(number_window, qtbot):
    """The number and its boxes, which the person watches while writing, are painted as soon as
    they are read; the selected digit's panels follow in the next repaint. A digit's button just
    added is painted where the strip lays it out."""
    w = number_window
    write(w, qtbot, "31")
    strip = w.number_mode.strip
    events: list[tuple] = []

    class Watch(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                if obj is strip.number:
                    events.append(("number painted", obj.text()))
                elif obj in strip.buttons:
                    events.append(("button painted", strip.buttons.index(obj), obj.geometry()))
            return False

    watch = Watch()
    QApplication.instance().installEventFilter(watch)
    w.number_mode.readingShown.connect(lambda r: events.append(("read", r.text if r is not None else "")))
    w.predictionShown.connect(lambda _p: events.append(("panels",)))
    try:
        draw_stroke(w.canvas, placed(4, 0.2 + 2 * 0.75)[0], process_every=1)
        settle(qtbot, w)
    finally:
        QApplication.instance().removeEventFilter(watch)
    # The first reading of three digits: its text is painted before the panels take a digit.
    first = next(i for i, e in enumerate(events) if e[0] == "read" and len(e[1]) == 3)
    panels = next(i for i in range(first, len(events)) if events[i][0] == "panels")
    assert ("number painted", events[first][1]) in events[first:panels]
    # The third button, shown by that reading, is first painted right of the second.
    new_button = next(e for e in events if e[0] == "button painted" and e[1] == 2)
    assert events.index(new_button) < panels
    assert new_button[2].left() > strip.buttons[1].geometry().right()


def test_clicking_a_digit_shows_it_in_the_panels(number_window, qtbot):
    w = number_window
    write(w, qtbot, "386")
    strokes_before = len(w.canvas.strokes())
    box = w.number_mode.reading.digits[0].box
    click_pad(w, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
    settle(qtbot, w)
    assert len(w.canvas.strokes()) == strokes_before  # the click left no ink
    assert w.number_mode.selected == 0
    assert w.number_mode.strip.buttons[0].isChecked()
    assert_views_show(w, digit_prediction(w, 0))
    # Undo still takes back the last stroke, not the click.
    assert w.undo_action.isEnabled()

    qtbot.mouseClick(w.number_mode.strip.buttons[1], Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert w.number_mode.selected == 1
    assert_views_show(w, digit_prediction(w, 1))


def test_a_click_on_empty_paper_draws_a_dot(number_window, qtbot):
    w = number_window
    write(w, qtbot, "7")
    click_pad(w, 3.5, 0.5)
    settle(qtbot, w)
    assert len(w.canvas.strokes()) == len(DIGIT_STROKES[7]) + 1


def test_undo_takes_back_the_last_stroke(number_window, qtbot):
    w = number_window
    write(w, qtbot, "47")
    assert w.number_mode.strip.number.text() == "47"
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "4"
    assert w.number_mode.strip.shown_digits()[0].startswith("4")


def test_switching_modes_keeps_each_drawing(number_window, qtbot):
    w = number_window
    write(w, qtbot, "90")
    w.number_action.trigger()  # back to one digit
    settle(qtbot, w)
    r = w.canvas.pad_rect()
    assert r.width() == pytest.approx(r.height())
    assert not w.number_mode.strip.isVisible()
    assert w.canvas.strokes() == []
    assert_views_show(w, None)
    draw_strokes(w.canvas, DIGIT_STROKES[3])
    settle(qtbot, w)
    assert w.panel.prediction.digit == 3

    w.number_action.trigger()
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "90"
    w.number_action.trigger()
    settle(qtbot, w)
    assert w.panel.prediction.digit == 3


@pytest.mark.parametrize("d", [4, 5])
def test_one_digit_in_number_mode_reads_as_in_digit_mode(number_window, qtbot, d):
    w = number_window
    draw_strokes(w.canvas, placed(d, 1.6))
    settle(qtbot, w)
    number_pred = w.panel.prediction
    assert w.number_mode.strip.number.text() == str(number_pred.digit)
    strokes = [np.asarray(s)[:, :2] for s in w.canvas.strokes()]
    w.number_action.trigger()
    w.canvas.set_strokes([s - (1.6, 0.0) for s in strokes])
    settle(qtbot, w)
    digit_pred = w.panel.prediction
    assert digit_pred.digit == number_pred.digit == d
    np.testing.assert_allclose(digit_pred.probabilities, number_pred.probabilities, atol=1e-5)


def test_an_unsure_digit_is_marked(number_window, qtbot):
    w = number_window
    rng = np.random.default_rng(3)
    scribble = [(0.4 + 0.5 * x, 0.2 + 0.6 * y) for x, y in rng.random((25, 2))]
    draw_stroke(w.canvas, scribble)
    settle(qtbot, w)
    digits = w.number_mode.reading.digits
    assert any(d.unsure for d in digits)
    assert any("?" in s for s in w.number_mode.strip.shown_digits())


def test_the_pad_shows_each_digit_in_a_box(number_window, qtbot):
    from lenet_draw.gui.number_mode import CHOSEN, SURE

    w = number_window
    write(w, qtbot, "23")
    img = w.canvas.grab().toImage()
    dpr = img.devicePixelRatio()

    def colours_left_of(box):
        at = w.canvas.to_widget(box[0] - 0.0275, (box[1] + box[3]) / 2)
        return [img.pixelColor(round((at.x() + dx) * dpr), round(at.y() * dpr)) for dx in range(-3, 4)]

    def near(colours, target):
        return any(
            abs(c.red() - target.red()) + abs(c.green() - target.green()) + abs(c.blue() - target.blue()) < 90
            for c in colours
        )

    first, second = (d.box for d in w.number_mode.reading.digits)
    assert near(colours_left_of(first), SURE)  # a sure digit: blue
    assert near(colours_left_of(second), CHOSEN)  # the one in the panels: green
    assert not near(colours_left_of(first), CHOSEN)


def number_picture(text, path, size=(600, 150)):
    """A scan of ``text`` written black on white, digits apart: the sample drawings, 110 px tall."""
    from PIL import Image, ImageDraw

    img = Image.new("L", size, 255)
    draw = ImageDraw.Draw(img)
    for k, ch in enumerate(text):
        for s in placed(int(ch), 0.2 + k * 0.9):
            draw.line([(x * 110 + 20, y * 110 + 20) for x, y in s], fill=0, width=10, joint="curve")
    img.save(path)
    return path


def test_the_pad_on_screen_matches_a_full_repaint_after_writing_move_by_move(number_window, qtbot):
    # While a digit is written its box grows and its label changes on nearly every move; the
    # pad repaints only the outlines and labels that changed. No old outline or label may be
    # left behind: what the window shows must equal the pad painted whole.
    w = number_window
    for k, ch in enumerate("2704"):
        for stroke in placed(int(ch), 0.2 + k * 0.75):
            draw_stroke(w.canvas, stroke, process_every=1)
    settle(qtbot, w)
    assert len(w.number_mode.reading.digits) == 4
    w.undo_action.trigger()  # the 4's last stroke goes: its box shrinks, its reading changes
    settle(qtbot, w)
    shown = on_screen(w, w.canvas)
    whole = pixels(w.canvas.grab().toImage())
    assert shown.shape == whole.shape
    assert int((shown != whole).sum()) == 0


def test_labels_of_digits_written_close_together_stay_apart_and_readable(number_window, qtbot):
    """Ones a third of a digit apart: centred under their boxes, their labels ("1 99%") would
    run into each other. Each is put one line lower or above its box instead, and the pad on
    screen still equals the pad painted whole after writing move by move and an undo (a label
    moved by its neighbour is repainted where it was and where it is)."""
    w = number_window
    for k in range(6):
        draw_stroke(w.canvas, [(0.3 + 0.12 * k, 0.3), (0.3 + 0.12 * k, 0.7)], process_every=1)
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "111111"
    mode = w.number_mode
    r = w.canvas.pad_rect()
    laid = mode._layout(r, mode._shown)
    from PySide6.QtCore import QRectF

    labels = [QRectF(*where) for _, where in laid]
    outlines = [QRectF(*outline) for outline, _ in laid]
    assert labels[0].width() > outlines[1].left() - outlines[0].left()  # side by side they would touch
    for i, a in enumerate(labels):
        assert r.contains(a)
        assert not any(a.intersects(b) for b in labels[i + 1 :]), (i, labels)
        assert not any(a.intersects(o) for o in outlines)
    w.undo_action.trigger()
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "11111"
    shown = on_screen(w, w.canvas)
    whole = pixels(w.canvas.grab().toImage())
    assert int((shown != whole).sum()) == 0


def test_a_picture_opened_in_number_mode_is_read_as_a_number(number_window, qtbot, tmp_path):
    w = number_window
    assert w.open_image(number_picture("3917", tmp_path / "n.png"))
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "3917"
    boxes = [d.box for d in w.number_mode.reading.digits]
    # Each box lies over its digit where the pad shows the picture (fitted, centred): pad units.
    k = min(4.0 / 600, 1.0 / 150)
    ox, oy = (4.0 - 600 * k) / 2, (1.0 - 150 * k) / 2
    for i, box in enumerate(boxes):
        left = ox + (0.2 + i * 0.9) * 110 * k + 20 * k
        assert left - 0.06 < box[0] < left + 0.7 * 110 * k
        assert oy + 15 * k < box[1] < box[3] < oy + 135 * k
    # The panels show a digit of the number, and a click on another digit shows that one.
    assert w.number_mode.selected is not None
    click_pad(w, (boxes[2][0] + boxes[2][2]) / 2, (boxes[2][1] + boxes[2][3]) / 2)
    settle(qtbot, w)
    assert w.canvas.image() is not None  # the click left the picture in place
    assert w.number_mode.selected == 2
    assert w.panel.prediction.digit == 1
    assert_views_show(w, w.engine.predict_stages(w.number_mode.reading.digits[2].stages))


def test_a_scan_of_touching_digits_opened_in_number_mode_reads_each_digit(number_window, qtbot, tmp_path, mnist_test):
    """MNIST test digits as scanned, set side by side so that the two 1s touch each other:
    opened in Number mode, the strip shows all four digits, each with its box on the pad."""
    from lenet_draw.bench.number_pictures import picture

    idx = [7234, 3650, 6644, 3786]
    assert "".join(str(int(mnist_test.labels[i])) for i in idx) == "8011"
    path = tmp_path / "scan.png"
    picture([mnist_test.images[i] for i in idx], 0.0).save(path)
    w = number_window
    assert w.open_image(path)
    settle(qtbot, w)
    assert w.number_mode.strip.number.text() == "8011"
    boxes = [d.box for d in w.number_mode.reading.digits]
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)
    assert all(0.0 <= b[0] < b[2] <= w.canvas.aspect for b in boxes)


def test_a_picture_opened_in_digit_mode_stays_one_digit(window, qtbot, tmp_path):
    assert window.open_image(number_picture("7", tmp_path / "d.png", size=(150, 150)))
    settle(qtbot, window)
    assert window.panel.prediction.digit == 7
    assert not window.number_mode.strip.isVisible()


def test_a_joined_stroke_is_read_again_when_the_pen_lifts(qtbot, window):
    """A joined "11" written as a person writes it, the window's loop running after every move
    and the release where the last move was: while drawing it is one unsure digit; once the pen
    lifts it is cut and read as 11."""
    from lenet_draw.sample_digits import resample

    window.number_action.trigger()
    settle(qtbot, window)
    points = [(0.5 + x, y) for x, y in resample([(0.3, 0.15), (0.3, 0.85), (0.8, 0.15), (0.8, 0.85)])]
    draw_stroke(window.canvas, points, process_every=1)
    settle(qtbot, window)
    assert not window.canvas.is_drawing()
    assert window.number_mode.strip.number.text() == "11"
    # Each 1 reads surely, but where one stroke parts into two digits is a guess: both say so.
    assert [t[:3] for t in window.number_mode.strip.shown_digits()] == ["1? ", "1? "]
    assert "without lifting the pen" in window.number_mode.strip.buttons[0].toolTip()
    assert window.panel.headline() == "1? Unsure: written into a neighbour"
    assert min(d.confidence for d in window.number_mode.reading.digits) > 0.9


def test_zeros_joined_at_their_tops_are_read_as_zeros(qtbot, window):
    """ "000" written with mouse moves in one stroke, each 0 begun and ended at its top and the
    pen running on along the top into the next: once the pen lifts, three zeros."""
    window.number_action.trigger()
    settle(qtbot, window)
    t = np.linspace(0.0, 2 * np.pi, 60)
    points = [(0.5 + k * 0.7 - 0.225 * float(np.sin(a)), 0.5 - 0.42 * float(np.cos(a))) for k in range(3) for a in t]
    draw_stroke(window.canvas, points, process_every=1)
    settle(qtbot, window)
    assert window.number_mode.strip.number.text() == "000"
    assert [t[:3] for t in window.number_mode.strip.shown_digits()] == ["0? "] * 3


def test_a_picture_of_thousands_of_dots_is_refused_on_the_strip_and_writing_goes_on(number_window, qtbot, tmp_path):
    from PIL import Image

    a = np.full((64, 2048), 255, np.uint8)
    a[::2, ::2] = 0  # 32,768 dots: a few hundred bytes of PNG
    Image.fromarray(a).save(tmp_path / "dots.png", optimize=True)
    w = number_window
    strip = w.number_mode.strip
    assert not strip.note.isVisible()
    assert w.open_image(tmp_path / "dots.png")
    settle(qtbot, w)
    assert strip.note.isVisible()
    assert strip.note.text() == (
        "The ink falls into 32,768 separate marks; a number is read from at most 200, so this is not read as a number."
    )
    assert strip.number.text() == "—" and strip.shown_digits() == []
    w.clear_action.trigger()
    write(w, qtbot, "42")
    assert strip.number.text() == "42"
    assert not strip.note.isVisible()


def test_writing_more_strokes_than_a_number_has_says_so_and_undo_reads_again(number_window, qtbot):
    from lenet_draw.segment import MAX_INK_PIECES

    w = number_window
    ticks = [[(0.1 + k * 0.018, 0.3), (0.105 + k * 0.018, 0.7)] for k in range(MAX_INK_PIECES + 1)]
    draw_strokes(w.canvas, ticks, process_every=None)
    settle(qtbot, w)
    strip = w.number_mode.strip
    assert strip.note.isVisible() and f"falls into {MAX_INK_PIECES + 1} pen strokes" in strip.note.text()
    assert strip.shown_digits() == []
    w.undo_action.trigger()
    settle(qtbot, w)
    assert not strip.note.isVisible()
    assert len(strip.shown_digits()) == MAX_INK_PIECES


def test_a_long_number_scrolls_in_the_strip_and_leaves_the_window_its_width(number_window, qtbot):
    w = number_window
    width = w.width()
    text = "4915112345678"
    for k, ch in enumerate(text):
        strokes = [[(0.12 + k * 0.29 + px * 0.24, 0.25 + py * 0.5) for px, py in s] for s in DIGIT_STROKES[int(ch)]]
        draw_strokes(w.canvas, strokes, process_every=None)
        settle(qtbot, w)
    strip = w.number_mode.strip
    assert strip.number.text() == text
    qtbot.wait(50)  # the strip scrolls to the newest digit once it is laid out
    assert w.width() == width
    viewport = strip.scroll.viewport()
    buttons = [b for b in strip.buttons if not b.isHidden()]
    assert buttons[-1].x() + buttons[-1].width() > viewport.width()  # more buttons than fit...
    last = buttons[-1].mapTo(viewport, buttons[-1].rect().topLeft())
    assert 0 <= last.x() and last.x() + buttons[-1].width() <= viewport.width()  # ...the newest one in view
    assert buttons[-1].isChecked()


def test_digits_whose_cut_is_in_doubt_are_marked_and_say_how_else_they_read(number_window, qtbot):
    """Hand-drawn 4149, each digit overlapping the one before: the 4's strokes read as a sure 6
    and a sure 1. Once the pen lifts, both are marked unsure and say the other reading."""
    from lenet_draw.bench import number_set as ns

    hand = ns.load_handdrawn()
    rng = np.random.default_rng(58)
    text = "".join(str(int(c)) for c in rng.choice(sorted(hand), 4))
    shapes = [[s.copy() for s in hand[int(c)][int(rng.integers(len(hand[int(c)])))]] for c in text]
    strokes = [s for d in ns.write(shapes, "overlapping", rng) for s in d]
    lo = np.concatenate(strokes).min(axis=0)
    w = number_window
    draw_strokes(w.canvas, [[tuple((p - lo) * 0.6 + (0.15, 0.2)) for p in s] for s in strokes], process_every=None)
    settle(qtbot, w)
    strip = w.number_mode.strip
    assert strip.number.text() == "61149"
    labels = strip.shown_digits()
    assert labels[0].startswith("6? ") and labels[1].startswith("1? ") and labels[2].startswith("1 ")
    assert "the 61 here may also be read as 4" in strip.buttons[0].toolTip()
    assert "may also be read" not in strip.buttons[2].toolTip()
    digits = w.number_mode.reading.digits
    assert digits[0].confidence > 0.95  # the network is sure: the doubt is where the digit ends
    assert [m[3] for m in w.number_mode._shown][:3] == [True, True, False]  # the pad marks them unsure too
    # The panels say it too, for the digit clicked: not the network's doubt but the cut's.
    qtbot.mouseClick(strip.buttons[0], Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert w.panel.headline() == "6? Unsure where it ends: 61 or 4?"
    assert w.panel.bars.unsure
    assert w.reading_status.text() == "Unsure: 6?"
    qtbot.mouseClick(strip.buttons[2], Qt.MouseButton.LeftButton)
    settle(qtbot, w)
    assert w.panel.state == "sure" and w.panel.digit_view.text() == "1"
    assert not w.panel.bars.unsure and w.reading_status.text() == ""
