"""Topics for synthetic documents, each with the labels its fallback data may use."""

from __future__ import annotations

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "fruit sold at a market stall in one week",
        ("Apples", "Bananas", "Cherries", "Grapes", "Mangoes", "Pears"),
    ),
    ("rainfall in millimetres per month", ("January", "February", "March", "April", "May", "June")),
    ("students enrolled in school clubs", ("Chess", "Drama", "Robotics", "Choir", "Football", "Art")),
    ("energy sources of a small town in percent", ("Solar", "Wind", "Hydro", "Gas", "Coal", "Biomass")),
    (
        "books borrowed from a library by genre",
        ("Mystery", "Science", "History", "Poetry", "Fantasy", "Travel"),
    ),
    (
        "visitors to a museum per weekday",
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"),
    ),
    ("steps of a bread recipe in minutes", ("Mix", "Knead", "Rise", "Shape", "Proof", "Bake")),
    ("bug reports per software component", ("Parser", "Renderer", "Network", "Storage", "Login", "Search")),
    ("coffee orders at a cafe by drink", ("Espresso", "Latte", "Cappuccino", "Mocha", "Americano", "Tea")),
    ("hours of sunshine per season", ("Spring", "Summer", "Autumn", "Winter")),
    (
        "stages of a package delivery in hours",
        ("Ordered", "Packed", "Shipped", "Sorted", "Out for delivery", "Delivered"),
    ),
    ("average test scores per subject", ("Maths", "Physics", "Biology", "Geography", "Music", "English")),
)
