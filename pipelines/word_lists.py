"""Word lists for the caption guards: stop words, caption framing words, number words."""

from __future__ import annotations

STOP_WORDS = frozenset(
    """a an the and or but nor so yet for of in on at to from by with without within into onto over under
    above below between among through during before after near beside besides behind next up down out off
    about around across along against toward towards upon than then as is are was were be been being am
    has have had having do does did doing it its it's this that these those there here their they them he
    she his her him we us our you your i me my mine which who whom whose what where when why how all any
    both each few more most other some such no not only own same too very can will just also just while
    would could should may might must shall one's itself themselves also still even quite rather really
    seem seems appear appears appearing look looks looking like""".split()
)

# Words a written caption uses to frame its facts, which a speaker may not say aloud.
FRAMING_WORDS = frozenset(
    """image picture photo photograph scene shows show showing shown depicts depict depicting displays
    display displayed features feature featuring visible see seen overall view captures captured
    appearance located positioned situated placed set sits sitting stands standing""".split()
)

NUMBER_WORDS = {
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "single": "1",
    "pair": "2",
    "couple": "2",
    "dozen": "12",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
}
