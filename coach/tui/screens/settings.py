"""设置: engine, model, microphone, phrasebook, trainee name (saved as TOML)."""

from __future__ import annotations

from coach.tui.styled import Styled
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from coach.errors import CoachError
from coach.phrasebook import load_phrasebook
from coach.tui.screens.common import ErrorBox
from coach.tui.settings import Settings

ENGINE_CHOICES = [("自动（实时用 Vosk，如已安装；否则 Whisper）", "auto"), ("Whisper（更准）", "whisper"),
                  ("Vosk（更快，需先安装普通话模型）", "vosk")]
DEFAULT_MIC = "__default__"
VOICE_CHOICES = [("情景练习时朗读客户的话", "on"), ("不朗读（只显示文字）", "off")]
CHANNEL_CHOICES = [("单个麦克风（按声音区分窗口和群众）", ""), ("立体声：左声道是窗口", "left"),
                   ("立体声：右声道是窗口", "right")]


def voice_note(trainee: str) -> str:
    """Whether the trainee's voice is enrolled (one microphone tells clerk from citizen by it)."""
    from coach.speaker.profile import load_profile
    if not trainee.strip():
        return "填写学员姓名后可登记声音：coach enroll --trainee 姓名（单麦克风时用来区分窗口和群众）"
    if load_profile(trainee.strip()) is not None:
        return f"已登记 {trainee.strip()} 的声音：单麦克风录音按声音区分窗口和群众"
    return f"尚未登记 {trainee.strip()} 的声音：运行 coach enroll --trainee {trainee.strip()}，念 10–30 秒"


def list_microphones() -> tuple[list[tuple[str, str]], str | None]:
    """(label, value) of every input device, and a problem to show (None when fine)."""
    try:
        import sounddevice as sd
        devices = sd.query_devices()
    except Exception as exc:  # OSError without PortAudio, PortAudioError without devices
        text = str(exc)
        if "portaudio" in text.lower():
            return [], "找不到 PortAudio 音频库（Debian/Ubuntu：sudo apt-get install libportaudio2）"
        return [], f"无法列出麦克风：{text}"
    mics = [(f"{i}: {d['name']}", str(i)) for i, d in enumerate(devices) if d.get("max_input_channels", 0) > 0]
    return mics, None if mics else "没有找到麦克风（可用 --input 文件 练习）"


class SettingsScreen(Screen):
    HELP = "修改后按 Ctrl+S 保存；Esc 返回不保存。规则库目录留空则用内置规则库。"
    BINDINGS = [
        Binding("ctrl+s", "save", "保存", priority=True),
        Binding("escape", "app.pop_screen", "返回（不保存）"),
    ]

    def compose(self) -> ComposeResult:
        s: Settings = self.app.settings
        yield Header()
        with VerticalScroll(id="settings-form"):
            with Horizontal(classes="field-row"):
                yield Label("学员姓名")
                yield Input(s.trainee, placeholder="保存记录时使用", id="trainee")
            with Horizontal(classes="field-row"):
                yield Label("识别引擎")
                yield Select(ENGINE_CHOICES, value=s.engine, allow_blank=False, id="engine")
            with Horizontal(classes="field-row"):
                yield Label("模型")
                yield Input(s.model, placeholder="留空 = 引擎默认（whisper-base / vosk-small-cn）", id="model")
            with Horizontal(classes="field-row"):
                yield Label("麦克风")
                yield Select([("系统默认", DEFAULT_MIC)], value=DEFAULT_MIC, allow_blank=False, id="device")
            yield Static("", id="mic-note", classes="dim")
            with Horizontal(classes="field-row"):
                yield Label("录音声道")
                yield Select(CHANNEL_CHOICES, value=s.clerk_channel if s.clerk_channel in ("left", "right") else "",
                             allow_blank=False, id="clerk-channel")
            yield Static(Styled(voice_note(s.trainee), style="dim"), id="voice-note")
            with Horizontal(classes="field-row"):
                yield Label("朗读")
                yield Select(VOICE_CHOICES, value=s.voice if s.voice in ("on", "off") else "on",
                             allow_blank=False, id="voice")
            with Horizontal(classes="field-row"):
                yield Label("规则库目录")
                yield Input(s.phrasebook, placeholder="留空 = 内置规则库", id="phrasebook")
            yield ErrorBox(id="error")
            with Horizontal(id="settings-buttons"):
                yield Button("保存 (Ctrl+S)", id="save", variant="primary")
                yield Button("返回 (Esc)", id="cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.title = "设置"
        self.query_one("#trainee", Input).focus()
        self.query_one("#mic-note", Static).update(Styled("正在查找麦克风…", style="dim"))
        self._find_mics()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "trainee":
            self.query_one("#voice-note", Static).update(Styled(voice_note(event.value), style="dim"))

    @work(thread=True, exclusive=True, group="mics")
    def _find_mics(self) -> None:
        mics, problem = list_microphones()
        self.app.call_from_thread(self._show_mics, mics, problem)

    def _show_mics(self, mics: list[tuple[str, str]], problem: str | None) -> None:
        current = self.app.settings.device.strip()
        options = [("系统默认", DEFAULT_MIC)] + mics
        values = {v for _, v in options}
        if current and current not in values:
            options.append((f"{current}（已保存，当前未找到）", current))
        sel = self.query_one("#device", Select)
        sel.set_options(options)
        sel.value = current or DEFAULT_MIC
        self.query_one("#mic-note", Static).update(Styled(problem or f"找到 {len(mics)} 个麦克风",
                                                        style="$text-warning" if problem else "dim"))

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        s: Settings = self.app.settings
        phrasebook = self.query_one("#phrasebook", Input).value.strip()
        if phrasebook:
            try:
                load_phrasebook(phrasebook)
            except CoachError as exc:
                self.query_one(ErrorBox).show_error(f"规则库无法使用：{exc.message}", "检查目录，或留空使用内置规则库")
                return
        device = self.query_one("#device", Select).value
        new = Settings(
            engine=str(self.query_one("#engine", Select).value),
            model=self.query_one("#model", Input).value.strip(),
            device="" if device in (DEFAULT_MIC, Select.BLANK) else str(device),
            phrasebook=phrasebook,
            trainee=self.query_one("#trainee", Input).value.strip(),
            voice=str(self.query_one("#voice", Select).value),
            clerk_channel=str(self.query_one("#clerk-channel", Select).value),
        )
        changed_pb = new.phrasebook != s.phrasebook
        for k, v in vars(new).items():
            setattr(s, k, v)
        if changed_pb:
            self.app.reset_phrasebook()
        try:
            path = self.app.save_settings()
        except (OSError, CoachError) as exc:
            self.query_one(ErrorBox).show_error(f"无法保存设置：{getattr(exc, 'message', exc)}", "检查配置目录的写权限")
            return
        self.app.notify(f"设置已保存{'：' + str(path) if path else ''}", timeout=3)
        self.app.pop_screen()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.app.pop_screen()
